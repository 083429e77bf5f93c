# Writing text with a trained char-lstm: prime it, then draw one character at a time.

using Random: MersenneTwister

# How many steps run between two chances for Python to stop the call (Ctrl-C).
const POLL_EVERY = 32

"""
    sample_text(model::TrainedModel, settings::SampleSettings; seed, hooks=NO_HOOKS) -> Vector{String}

`settings.num_samples` texts, each the prime text followed by `settings.length` drawn
characters, all drawn as one batch from `model`. `temperature` sharpens (< 1) or flattens
(> 1) the model's distribution, 0 takes the likeliest character; `top_k` > 0 draws only among
the k likeliest, `top_p` < 1 only among the likeliest whose probability sums to at least
`top_p` (see `draw_class`). The same `seed` gives the same texts; `nothing` a random seed.
The unknown class is never drawn. The texts are also reported as they grow, as "text" events
whose `texts` are each stream's new characters.
"""
function sample_text(model::TrainedModel, s::SampleSettings; seed::Union{Integer,Nothing}, hooks::Hooks = NO_HOOKS)
    draw = TextDraw(model, sampler!(model, s.num_samples), s; seed = seed, hooks = hooks)
    # Each stream's text as it grows, for a caller that shows it at once or keeps it on Ctrl-C.
    hooks.progress("text"; texts = fill(s.prime, s.num_samples))
    vocab = model.vocab
    show(drawn, from, to) = hooks.progress("text"; texts = [decode(vocab, view(drawn, from:to, i)) for i in 1:s.num_samples])
    drawn = draw!(draw, s.length, hooks; on_drawn = show)
    return [s.prime * decode(vocab, view(drawn, :, i)) for i in 1:s.num_samples]
end

"""
    TextDraw(model, predictor, settings::SampleSettings; seed, hooks=NO_HOOKS)

Drawing class ids through `predictor` (a `step_predictor`: one step, one column per stream,
its states carried), each stream primed with `settings.prime` in `model`'s vocabulary:
`draw!` draws the next ones, as many calls as wanted, going on where the last one stopped.
The settings are `sample_text`'s (their length and num_samples are the caller's).
"""
mutable struct TextDraw
    predictor::Union{StepPredictor,StatefulPredictor}
    rng::MersenneTwister
    temperature::Float64
    top_k::Int
    top_p::Float64
    unknown::Int32         # the class never drawn
    input::Vector{Int32}   # each stream's last class, the next step's input
    weights::Vector{Float64}   # draw_class's work space, one per class
end

function TextDraw(model::TrainedModel, predictor::Union{StepPredictor,StatefulPredictor}, s::SampleSettings;
                  seed::Union{Integer,Nothing}, hooks::Hooks = NO_HOOKS)
    prime = s.prime
    unknown = unknown_chars(model.vocab, prime)
    isempty(unknown) ||
        throw(UserError("the prime text has characters the checkpoint's vocabulary lacks: " *
                        join(repr.(string.(unknown)), ", ") * "; remove them from the prime text"))
    ids = encode(model.vocab, prime)
    streams = batch_size(predictor)
    for (step, id) in enumerate(ids[1:end-1])
        predict_step!(predictor, fill(id, streams))
        step % POLL_EVERY == 0 && hooks.poll()
    end
    rng = seed === nothing ? MersenneTwister() : MersenneTwister(seed)
    return TextDraw(predictor, rng, s.temperature, s.top_k, s.top_p, unknown_class(model.vocab), fill(ids[end], streams))
end

TextDraw(predictor, rng::MersenneTwister, temperature::Real, top_k::Integer, top_p::Real, unknown::Integer,
         input::AbstractVector{<:Integer}) =
    TextDraw(predictor, rng, Float64(temperature), Int(top_k), Float64(top_p), Int32(unknown), Vector{Int32}(input),
             Vector{Float64}(undef, unknown + 1))

"""
    draw!(draw, n_chars, hooks=NO_HOOKS; on_drawn=(drawn, from, to) -> nothing) -> Matrix{Int32}

The next `n_chars` class ids of every stream (n_chars × streams). `on_drawn(drawn, from, to)`
sees each run of new rows as they are drawn, every POLL_EVERY steps.
"""
function draw!(d::TextDraw, n_chars::Int, hooks::Hooks = NO_HOOKS; on_drawn = (drawn, from, to) -> nothing)
    streams = batch_size(d.predictor)
    drawn = Matrix{Int32}(undef, n_chars, streams)
    shown = 0
    for k in 1:n_chars
        probs = predict_step!(d.predictor, d.input)
        for i in 1:streams
            d.input[i] = drawn[k, i] = draw_class!(d.weights, d.rng, view(probs, :, i), d.unknown, d.temperature,
                                                   d.top_k, d.top_p)
        end
        if k % POLL_EVERY == 0 || k == n_chars
            on_drawn(drawn, shown + 1, k)
            shown = k
            hooks.poll()
        end
    end
    return drawn
end

"One stream of text: its drawing and the vocabulary that spells it."
struct TextStream
    draw::TextDraw
    vocab::Vocabulary
end

"""
    open_stream(model, settings::SampleSettings; seed, hooks=NO_HOOKS) -> TextStream

One stream of text from `model`, drawn as `settings` say (but their length and num_samples),
with a predictor of its own (sampling from `model` in between does not disturb it):
`next_text!` draws its next characters.
"""
open_stream(model::TrainedModel, s::SampleSettings; kwargs...) =
    TextStream(TextDraw(model, step_predictor(model.spec, model.arg_params, 1; context = model.context), s; kwargs...),
               model.vocab)

"The next `n_chars` characters of `stream`."
next_text!(stream::TextStream, n_chars::Integer, hooks::Hooks = NO_HOOKS) =
    decode(stream.vocab, view(draw!(stream.draw, Int(n_chars), hooks), :, 1))

"""
    draw_class!(weights, rng, probs, unknown, temperature, top_k, top_p) -> Int32

A 0-based class id drawn from `probs` sharpened by `temperature` (0: the likeliest) among
the `top_k` likeliest classes (0: all), then among the smallest set of the likeliest of those
whose sharpened, renormalised probability sums to at least `top_p` (nucleus sampling; 1: all),
never the `unknown` class. With `top_p` = 1 the draws are those of a draw without it.
`weights` (one per class) is work space, so that a draw allocates nothing unless it cuts
by top_k or top_p.
"""
function draw_class!(weights::Vector{Float64}, rng, probs::AbstractVector, unknown::Integer, temperature::Float64,
                     top_k::Int, top_p::Float64)
    logp = weights
    logp .= log.(Float64.(probs))
    logp[unknown + 1] = -Inf
    temperature == 0 && return Int32(argmax(logp) - 1)
    if 0 < top_k < length(logp)
        dropped = partialsortperm(logp, top_k+1:length(logp); rev = true)
        logp[dropped] .= -Inf
    end
    # p^(1/T), scaled by the largest so that small temperatures cannot overflow.
    top = maximum(logp)
    weights .= exp.((logp .- top) ./ temperature)
    if top_p < 1
        order = sortperm(weights; rev = true)
        mass = cumsum(weights[order])
        # mass[end], not sum(weights): the same rounding as the running sums it is compared with.
        kept = findfirst(>=(top_p * mass[end]), mass)
        weights[order[kept+1:end]] .= 0
    end
    r = rand(rng) * sum(weights)
    chosen = findlast(>(0), weights)
    total = 0.0
    for (c, w) in enumerate(weights)
        total += w
        if r < total
            chosen = c
            break
        end
    end
    return Int32(chosen - 1)
end

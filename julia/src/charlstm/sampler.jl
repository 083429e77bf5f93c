# Writing text with a trained char-lstm: prime it, then draw one character at a time.

using Random: MersenneTwister

# How many steps run between two chances for Python to stop the call (Ctrl-C).
const POLL_EVERY = 32

"""
    sample_text(params_path; length, temperature, top_k, top_p, prime, seed, num_samples,
                context=mx.cpu(), cell=nothing, hooks=NO_HOOKS) -> Vector{String}

`num_samples` texts, each the prime text followed by `length` drawn characters, all drawn as
one batch from the checkpoint `<prefix>-NNNN.params`. `temperature` sharpens (< 1) or
flattens (> 1) the model's distribution, 0 takes the likeliest character; `top_k` > 0 draws
only among the k likeliest, `top_p` < 1 only among the likeliest whose probability sums to
at least `top_p` (see `draw_class`). The same `seed` gives the same texts; `nothing` a random seed.
The unknown class is never drawn. `cell` (`:lstm` or `:fused`) runs the checkpoint through
that graph instead of its own (same maths, other speed). The texts are also reported as they
grow, as "text" events whose `texts` are each stream's new characters.
"""
function sample_text(params_path::AbstractString; length::Integer, temperature::Real, top_k::Integer,
                     top_p::Real, prime::AbstractString, seed::Union{Integer,Nothing}, num_samples::Integer,
                     context::mx.Context = mx.cpu(), cell::Union{Symbol,Nothing} = nothing, hooks::Hooks = NO_HOOKS)
    length >= 1 && isfinite(temperature) && temperature >= 0 && top_k >= 0 && 0 < top_p <= 1 && num_samples >= 1 ||
        throw(ArgumentError("not valid sampling settings: $((length, temperature, top_k, top_p, num_samples))"))
    meta, spec, arg_params = load_trained(params_path; cell = cell)
    vocab = meta_vocab(meta)
    isempty(prime) &&
        throw(UserError("the prime text is empty: give at least one character to start from"))
    unknown = unknown_chars(vocab, prime)
    isempty(unknown) ||
        throw(UserError("the prime text has characters the checkpoint's vocabulary lacks: " *
                        join(repr.(string.(unknown)), ", ") * "; remove them from the prime text"))
    predictor = StatefulPredictor(spec, arg_params, 1, Int(num_samples); context = context)
    rng = seed === nothing ? MersenneTwister() : MersenneTwister(seed)
    # Each stream's text as it grows, for a caller that shows it at once or keeps it on Ctrl-C.
    hooks.progress("text"; texts = fill(prime, num_samples))
    show(drawn, from, to) = hooks.progress("text"; texts = [decode(vocab, view(drawn, from:to, i)) for i in 1:num_samples])
    drawn = draw_chars(predictor, encode(vocab, prime), Int(length), Int(num_samples), rng,
                       Float64(temperature), Int(top_k), Float64(top_p), unknown_class(vocab), hooks; on_drawn = show)
    return [prime * decode(vocab, view(drawn, :, i)) for i in 1:num_samples]
end

# Feeds the prime to every stream, then draws n_chars characters per stream (n_chars × streams).
# `on_drawn(drawn, from, to)` sees each run of new rows as they are drawn, every POLL_EVERY steps.
function draw_chars(predictor::StatefulPredictor, prime_ids::Vector{Int32}, n_chars::Int, n_streams::Int,
                    rng, temperature::Float64, top_k::Int, top_p::Float64, unknown::Int32, hooks::Hooks;
                    on_drawn = (drawn, from, to) -> nothing)
    drawn = Matrix{Int32}(undef, n_chars, n_streams)
    n_chars == 0 && return drawn
    step = 0
    for id in prime_ids[1:end-1]
        predict!(predictor, fill(id, 1, n_streams))
        (step += 1) % POLL_EVERY == 0 && hooks.poll()
    end
    input = fill(prime_ids[end], 1, n_streams)
    shown = 0
    for k in 1:n_chars
        probs = predict!(predictor, input)[1]
        for i in 1:n_streams
            drawn[k, i] = draw_class(rng, view(probs, :, i), unknown, temperature, top_k, top_p)
        end
        input = drawn[k:k, :]
        if k % POLL_EVERY == 0 || k == n_chars
            on_drawn(drawn, shown + 1, k)
            shown = k
        end
        (step += 1) % POLL_EVERY == 0 && hooks.poll()
    end
    return drawn
end

"""
    draw_class(rng, probs, unknown, temperature, top_k, top_p) -> Int32

A 0-based class id drawn from `probs` sharpened by `temperature` (0: the likeliest) among
the `top_k` likeliest classes (0: all), then among the smallest set of the likeliest of those
whose sharpened, renormalised probability sums to at least `top_p` (nucleus sampling; 1: all),
never the `unknown` class. With `top_p` = 1 the draws are those of a draw without it.
"""
function draw_class(rng, probs::AbstractVector, unknown::Integer, temperature::Float64, top_k::Int, top_p::Float64)
    logp = log.(Float64.(probs))
    logp[unknown + 1] = -Inf
    temperature == 0 && return Int32(argmax(logp) - 1)
    if 0 < top_k < length(logp)
        dropped = partialsortperm(logp, top_k+1:length(logp); rev = true)
        logp[dropped] .= -Inf
    end
    # p^(1/T), scaled by the largest so that small temperatures cannot overflow.
    weights = exp.((logp .- maximum(logp)) ./ temperature)
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

# Scoring a text with a trained char-lstm: how well it predicts each next character.

"""
    evaluate_text(params_path, text; context=mx.cpu(), chunk_len=32, cell=nothing,
                  hooks=NO_HOOKS) -> Dict

Scores `text` as one continuous stream: the states start at zero and carry from each
character to the next, and every character after the first is predicted. Characters outside
the vocabulary count as the unknown class (as in training's validation). Returns "nll" (mean
per predicted character, natural log), "perplexity", "bits_per_char", "n_chars",
"n_predicted" and "unknown" (how many characters are outside the vocabulary). The graph is
unrolled over `chunk_len` steps and run as `cell` (`:lstm`, `:fused`, `nothing`: the
checkpoint's own), which only change the speed.
"""
function evaluate_text(params_path::AbstractString, text::AbstractString; context::mx.Context = mx.cpu(),
                       chunk_len::Integer = 32, cell::Union{Symbol,Nothing} = nothing, hooks::Hooks = NO_HOOKS)
    chunk_len >= 1 || throw(ArgumentError("chunk_len must be at least 1, got $chunk_len"))
    meta, spec, arg_params = load_trained(params_path; cell = cell)
    vocab = meta_vocab(meta)
    ids = encode(vocab, text)
    n_chars = length(ids)
    n_chars >= 2 ||
        throw(UserError("the text to score has $n_chars character(s): give at least 2 (each " *
                        "character after the first is predicted)"))
    nll = stream_nll(spec, arg_params, ids, Int(chunk_len), context, hooks) / (n_chars - 1)
    return Dict{String,Any}("nll" => nll, "perplexity" => exp(nll), "bits_per_char" => nll / log(2),
                            "n_chars" => n_chars, "n_predicted" => n_chars - 1,
                            "unknown" => count(==(unknown_class(vocab)), ids))
end

# The summed NLL of ids[2:end] given the characters before each: full chunks through one
# predictor, the remainder through a second one of the remaining length.
function stream_nll(spec::ModelSpec, arg_params, ids::Vector{Int32}, chunk_len::Int, ctx::mx.Context, hooks::Hooks)
    n_predicted = length(ids) - 1
    n_full, n_rest = divrem(n_predicted, chunk_len)
    total = 0.0
    full = n_full > 0 ? StatefulPredictor(spec, arg_params, chunk_len, 1; context = ctx) : nothing
    for k in 1:n_full
        total += chunk_nll(full, ids, (k - 1) * chunk_len)
        k % POLL_EVERY == 0 && hooks.poll()
    end
    if n_rest > 0
        rest = StatefulPredictor(spec, arg_params, n_rest, 1; context = ctx)
        full === nothing || copy_states!(rest, full)
        total += chunk_nll(rest, ids, n_full * chunk_len)
    end
    return total
end

# The summed NLL of the predictor's seq_len characters after position `offset` of ids.
function chunk_nll(p::StatefulPredictor, ids::Vector{Int32}, offset::Int)
    inputs = reshape(ids[offset+1:offset+p.seq_len], :, 1)
    probs = predict!(p, inputs)
    return sum(char_nll(probs[t], ids[offset+t+1:offset+t+1]) for t in 1:p.seq_len)
end

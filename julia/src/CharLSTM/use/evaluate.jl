# Scoring a text with a trained char-lstm: how well it predicts each next character.

"""
    evaluate_corpus(model::TrainedModel, corpus; streams=1, chunk_len=32, hooks=NO_HOOKS) -> Dict
    evaluate_text(model::TrainedModel, text; ...)

Scores the text of `corpus` (an EncodedCorpus, read from its memory map), or a `text` in
memory, with `model` as `streams` contiguous pieces scored side by side as the columns of one
batch (fewer when the text has fewer characters to predict): each piece is a stream whose
states start at zero and carry from each character to the next. Every character after the
first is predicted once: a piece starts with the last character of the one before. With one
stream this is the whole text as one stream. Characters outside the vocabulary count as the
unknown class (as in training's validation). Returns "nll" (mean per predicted character,
natural log), "perplexity", "bits_per_char", "n_chars", "n_predicted", "unknown" (how many
characters are outside the vocabulary) and "streams" (the number used). The graph is
unrolled over `chunk_len` steps, which only changes the speed. Reports "task" events and
polls `hooks` as it goes.
"""
function evaluate_corpus(model::TrainedModel, corpus::EncodedCorpus; kwargs...)
    classes = class_map(corpus.vocab, model.vocab)
    unknown = sum(corpus.counts[classes .== unknown_class(model.vocab)])
    return score_ids(model, corpus.ids, classes, unknown; kwargs...)
end

function evaluate_text(model::TrainedModel, text::AbstractString; kwargs...)
    ids = encode(model.vocab, text)
    return score_ids(model, ids, Int32.(0:n_class(model.vocab)-1), count(==(unknown_class(model.vocab)), ids);
                     kwargs...)
end

# The scores of the text whose model classes are classes[ids .+ 1], `unknown` of them unknown.
function score_ids(model::TrainedModel, ids::AbstractVector{<:Integer}, classes::Vector{Int32}, unknown::Integer;
                   streams::Integer = 1, chunk_len::Integer = 32, hooks::Hooks = NO_HOOKS)
    chunk_len >= 1 && streams >= 1 ||
        throw(ArgumentError("chunk_len and streams must be at least 1, got $chunk_len and $streams"))
    n_chars = length(ids)
    n_chars >= 2 ||
        throw(UserError("the text to score has $n_chars character(s): give at least 2 (each " *
                        "character after the first is predicted)"))
    pieces = stream_pieces(n_chars - 1, Int(streams))
    nll = pieces_nll(model.spec, model.arg_params, ids, classes, pieces, Int(chunk_len), model.context, hooks) /
          (n_chars - 1)
    return Dict{String,Any}("nll" => nll, "perplexity" => exp(nll), "bits_per_char" => nll / log(2),
                            "n_chars" => n_chars, "n_predicted" => n_chars - 1, "unknown" => unknown,
                            "streams" => n_streams(pieces))
end

"""
    StreamPieces(n_predicted, steps)

The `n_predicted` predictions of a text cut into contiguous pieces of `steps` predictions
(the last piece may have fewer): piece j reads the text from position `(j - 1) * steps + 1`.
`stream_pieces(n_predicted, streams)` cuts it into `streams` pieces, or as few as it needs.
"""
struct StreamPieces
    n_predicted::Int
    steps::Int
end
stream_pieces(n_predicted::Int, streams::Int) = StreamPieces(n_predicted, cld(n_predicted, streams))

n_streams(p::StreamPieces) = cld(p.n_predicted, p.steps)
# How many predictions piece j makes.
piece_steps(p::StreamPieces, j::Int) = min(p.steps, p.n_predicted - (j - 1) * p.steps)

# The summed NLL of every piece's predictions: full chunks of all streams through one
# predictor, the remaining steps through a second one of that length, the states carried.
function pieces_nll(spec::ModelSpec, arg_params, ids::AbstractVector{<:Integer}, classes::Vector{Int32},
                    pieces::StreamPieces, chunk_len::Int, ctx::mx.Context, hooks::Hooks)
    n_full, n_rest = divrem(pieces.steps, chunk_len)
    batch = n_streams(pieces)
    total = 0.0
    progress = TaskProgress(hooks, "scoring", pieces.n_predicted, "chars")
    full = n_full > 0 ? StatefulPredictor(spec, arg_params, chunk_len, batch; context = ctx) : nothing
    for k in 1:n_full
        total += chunk_nll(full, ids, classes, pieces, (k - 1) * chunk_len)
        k % POLL_EVERY == 0 && advance!(progress, min(k * chunk_len * batch, pieces.n_predicted) - progress.done)
    end
    if n_rest > 0
        rest = StatefulPredictor(spec, arg_params, n_rest, batch; context = ctx)
        full === nothing || copy_states!(rest, full)
        total += chunk_nll(rest, ids, classes, pieces, n_full * chunk_len)
    end
    return total
end

# The summed NLL of the predictions at steps step+1 .. step+seq_len of every piece. A piece
# that has already ended reads class 0 there, and its predictions do not count.
function chunk_nll(p::StatefulPredictor, ids::AbstractVector{<:Integer}, classes::Vector{Int32},
                   pieces::StreamPieces, step::Int)
    batch = n_streams(pieces)
    inputs = zeros(Int32, p.seq_len, batch)
    labels = zeros(Int32, p.seq_len, batch)
    for j in 1:batch, t in 1:min(p.seq_len, piece_steps(pieces, j) - step)
        at = (j - 1) * pieces.steps + step + t
        inputs[t, j] = classes[ids[at]+1]
        labels[t, j] = classes[ids[at+1]+1]
    end
    probs = predict!(p, inputs)
    total = 0.0
    for t in 1:p.seq_len
        for j in 1:batch
            step + t <= piece_steps(pieces, j) || continue
            total -= log(max(Float64(probs[t][labels[t, j]+1, j]), MIN_PROBABILITY))
        end
    end
    return total
end

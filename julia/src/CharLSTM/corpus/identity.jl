# Which text a run trains on: its identity is recorded in the meta file, and a resumed run must
# go on with the same text (or, when asked, a new one in the run's vocabulary).

"A text as a run records it: its number of characters and the SHA-256 of its bytes."
struct CorpusIdentity
    characters::Int
    sha256::String
end

"""
    resumed_identity(saved, corpus, vocab, allow_new_text) -> CorpusIdentity

The identity a resumed run records: `corpus`'s, which must be the `saved` one (the meta's;
`nothing` for a run from before it was recorded), else a UserError, unless `allow_new_text`,
which still refuses characters outside the run's `vocab` (they could never be learned).
"""
function resumed_identity(saved::Union{CorpusIdentity,Nothing}, corpus, vocab::Vocabulary, allow_new_text::Bool)
    identity = corpus.identity
    saved == identity && return identity
    if !allow_new_text && saved !== nothing
        throw(UserError("the corpus is not the text this run was trained on (now $(identity.characters) " *
                        "characters, then $(saved.characters); their SHA-256 differ): resume on the same " *
                        "text, or add --allow-new-text to go on with this one"))
    end
    unknown = filter(c -> !haskey(vocab.class_of, c), corpus.vocab.chars)
    isempty(unknown) ||
        throw(UserError("the new text has characters the run's vocabulary lacks (" *
                        join(repr.(string.(unknown[1:min(end, 10)])), ", ") * (length(unknown) > 10 ? ", ..." : "") *
                        "), which it could never learn: train a new run on it instead"))
    saved === nothing || @info "Going on with a new text ($(identity.characters) characters)"
    return identity
end

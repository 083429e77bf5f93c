# Which text a run trains on: its identity is recorded in the meta file, and a resumed run must
# go on with the same text (or, when asked, a new one in the run's vocabulary).

"""
    check_same_text!(meta, corpus, vocab, allow_new_text)

A resumed run trains on the text it started with (the meta's "corpus_identity": characters
and SHA-256, which `EncodedCorpus` gives): else a UserError, unless `allow_new_text`, which
still refuses characters outside the run's `vocab` (they could never be learned) and records
the new text as the run's.
"""
function check_same_text!(meta::AbstractDict, corpus::EncodedCorpus, vocab::Vocabulary, allow_new_text::Bool)
    identity = corpus.identity
    saved = get(meta, "corpus_identity", nothing)
    saved === nothing || saved == identity && return
    if !allow_new_text && saved !== nothing
        throw(UserError("the corpus is not the text this run was trained on (now $(identity["characters"]) " *
                        "characters, then $(saved["characters"]); their SHA-256 differ): resume on the same " *
                        "text, or add --allow-new-text to go on with this one"))
    end
    unknown = filter(c -> !haskey(vocab.class_of, c), corpus.vocab.chars)
    isempty(unknown) ||
        throw(UserError("the new text has characters the run's vocabulary lacks (" *
                        join(repr.(string.(unknown[1:min(end, 10)])), ", ") * (length(unknown) > 10 ? ", ..." : "") *
                        "), which it could never learn: train a new run on it instead"))
    saved === nothing || @info "Going on with a new text ($(identity["characters"]) characters)"
    meta["corpus_identity"] = identity
end

# The vocabulary: which characters the model knows, and their class ids.

"""
The characters of a training text, sorted by code point; class id `i - 1` is `chars[i]`.
One extra class, the last (`unknown_class`), stands for every character the text lacked.
Characters are Unicode `Char`s, never bytes, so text in any script works.
"""
struct Vocabulary
    chars::Vector{Char}
    class_of::Dict{Char,Int32}
end

function Vocabulary(chars::Vector{Char})
    issorted(chars) && allunique(chars) ||
        throw(ArgumentError("vocabulary characters must be distinct and sorted by code point"))
    return Vocabulary(chars, Dict(c => Int32(i - 1) for (i, c) in enumerate(chars)))
end

"""
    build_vocabulary(text) -> Vocabulary

Every distinct character of `text`, newline and other whitespace included: for a text in
memory, the vocabulary an EncodedCorpus of the same text gets as it is encoded (tested).
"""
function build_vocabulary(text::AbstractString)
    isvalid(String, text) ||
        throw(UserError("the text is not valid UTF-8: convert the corpus to UTF-8 (e.g. with iconv)"))
    isempty(text) && throw(UserError("the text is empty: use a corpus with some characters in it"))
    return Vocabulary(sort!(unique(collect(text))))
end

"The class standing for characters outside the vocabulary (the last one)."
unknown_class(vocab::Vocabulary) = Int32(length(vocab.chars))
"How many classes the model predicts: the known characters plus the unknown class."
n_class(vocab::Vocabulary) = length(vocab.chars) + 1

"The 0-based class id of each character of `text`; unknown characters get `unknown_class`."
encode(vocab::Vocabulary, text::AbstractString) =
    Int32[get(vocab.class_of, c, unknown_class(vocab)) for c in text]

# What decoding shows for the unknown class: Unicode's replacement character.
const UNKNOWN_CHAR = '\ufffd'

"The text for 0-based class ids; the unknown class shows as U+FFFD (�)."
decode(vocab::Vocabulary, ids::AbstractVector{<:Integer}) =
    String([id == unknown_class(vocab) ? UNKNOWN_CHAR : vocab.chars[id + 1] for id in ids])

"The distinct characters of `text` that the vocabulary lacks, in order of first appearance."
unknown_chars(vocab::Vocabulary, text::AbstractString) =
    unique(c for c in text if !haskey(vocab.class_of, c))

"The vocabulary as stored in checkpoints: one-character strings in class-id order."
vocab_to_list(vocab::Vocabulary) = [string(c) for c in vocab.chars]

"""
    vocab_from_list(list) -> Vocabulary

Reads `vocab_to_list`'s form back; `source` names the file for the error message.
"""
function vocab_from_list(list::AbstractVector; source::AbstractString = "the checkpoint")
    valid = all(s -> s isa AbstractString && length(s) == 1, list)
    chars = valid ? [first(s) for s in list] : Char[]
    valid && issorted(chars) && allunique(chars) ||
        throw(UserError("the vocabulary in $source is damaged (it must be distinct one-character " *
                        "strings sorted by code point): use a checkpoint written by pyjlchar"))
    return Vocabulary(chars)
end

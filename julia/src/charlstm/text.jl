# Reading a text to train on or to score: once, from a file, checked to be UTF-8.

"""
    read_text(path, what) -> String

The text of the file at `path` (`what` names it in errors, e.g. "corpus file"). A UserError
names the byte offset of a NUL byte (a binary file, or UTF-16) or of the first sequence that
is not UTF-8, and says how to convert the file.
"""
function read_text(path::AbstractString, what::AbstractString)
    bytes = try
        read(path)
    catch e
        e isa SystemError || e isa Base.IOError || rethrow()
        throw(UserError("$what $path cannot be read ($(sprint(showerror, e))): check the path and its permissions"))
    end
    nul = findfirst(==(0x00), bytes)
    nul === nothing ||
        throw(UserError("$what $path looks binary (NUL byte at offset $(nul - 1)): pass a UTF-8 text file " *
                        "(convert UTF-16 text with iconv)"))
    text = String(bytes)
    bad = first_invalid_byte(text)
    bad === nothing ||
        throw(UserError("$what $path is not UTF-8 (byte 0x$(string(codeunit(text, bad + 1); base = 16, pad = 2)) " *
                        "at offset $bad): convert it, e.g. with iconv -f latin1 -t utf-8"))
    return text
end

"The 0-based offset of the first byte of `text` that starts no valid UTF-8 character, or `nothing`."
function first_invalid_byte(text::String)
    isvalid(text) && return nothing
    for i in eachindex(text)
        isvalid(text[i]) || return i - 1
    end
    return nothing
end

"What identifies a training text in the meta file: its length in characters and its SHA-256."
text_identity(text::AbstractString) =
    Dict{String,Any}("characters" => length(text), "sha256" => bytes2hex(SHA.sha256(text)))

"""
    check_same_text!(meta, text, vocab, allow_new_text)

A resumed run trains on the text it started with: else a UserError, unless `allow_new_text`,
which still refuses characters outside the run's vocabulary (they could never be learned) and
records the new text as the run's.
"""
function check_same_text!(meta::AbstractDict, text::AbstractString, vocab::Vocabulary, allow_new_text::Bool)
    identity = text_identity(text)
    saved = get(meta, "corpus_identity", nothing)
    saved === nothing || saved == identity && return
    if !allow_new_text && saved !== nothing
        throw(UserError("the corpus is not the text this run was trained on (now $(identity["characters"]) " *
                        "characters, then $(saved["characters"]); their SHA-256 differ): resume on the same " *
                        "text, or add --allow-new-text to go on with this one"))
    end
    unknown = unknown_chars(vocab, text)
    isempty(unknown) ||
        throw(UserError("the new text has characters the run's vocabulary lacks (" *
                        join(repr.(string.(unknown[1:min(end, 10)])), ", ") * (length(unknown) > 10 ? ", ..." : "") *
                        "), which it could never learn: train a new run on it instead"))
    saved === nothing || @info "Going on with a new text ($(identity["characters"]) characters)"
    meta["corpus_identity"] = identity
end

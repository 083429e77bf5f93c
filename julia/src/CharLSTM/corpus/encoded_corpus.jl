# Corpora encoded once: the characters of one or more text files as ids of their own
# vocabulary, in a compact binary file cached under a key of the files and memory-mapped, so
# that training and scoring read a corpus of any size without holding it in memory.
#
# A cache entry is a folder `<cache>/<label>-<key>/` holding
#   ids.bin       one id per character, in the smallest unsigned type that holds them
#   corpus.json   "format" (CORPUS_FORMAT), "id_type", "vocab" (one-character strings sorted by
#                 code point: id i is vocab[i + 1]), "counts" (each one's occurrences),
#                 "characters", "bytes", "lines", "sha256" (of the bytes), "sources" (each
#                 file's path and stat fields, which tell when the entry has gone stale)
# It is written as `.<label>-<key>.tmp<pid>/` and renamed into place when complete, so a reader
# sees a whole entry or none.

import CRC32c
import Mmap

const CORPUS_FORMAT = "pyjlchar-corpus/1"
const ID_TYPES = Dict("UInt8" => UInt8, "UInt16" => UInt16, "UInt32" => UInt32)
# Past the last code point: what the code-point tables hold for characters outside the vocabulary.
const NO_ID = typemax(UInt32)
const N_CODEPOINTS = 0x110000
# How much of a file's content its cache key reads: all of a small file, else both ends.
const KEY_SAMPLE_BYTES = 2^20
# An encoding that takes longer is logged (with its rate and cache folder); a small corpus's is not.
const LOG_ENCODING_AFTER_S = 1.0

"""
    EncodedCorpus

The text of `files`, concatenated in order, as `ids` (memory-mapped, read-only) of its own
`vocab` (every character it holds, sorted by code point), with `counts` of each character,
its `identity` ("characters" and the "sha256" of its bytes: what a run's meta records), its
`bytes` and `lines`, and the cache `folder` it was read from. `encode_seconds` is the time
this process took to encode it, `nothing` when it came from the cache.
"""
struct EncodedCorpus{T<:Unsigned}
    files::Vector{String}
    ids::Vector{T}
    vocab::Vocabulary
    counts::Vector{Int}
    identity::CorpusIdentity
    bytes::Int
    lines::Int
    folder::String
    encode_seconds::Union{Float64,Nothing}
end

id_type(n_chars::Integer) = n_chars <= 2^8 ? UInt8 : n_chars <= 2^16 ? UInt16 : UInt32

"A text file as the cache key sees it: what stat says about it, and a hash of (part of) its content."
struct SourceFile
    path::String
    bytes::Int
    mtime::Float64
    ctime::Float64
    inode::Int
    sample_sha256::String
end

function SourceFile(path::AbstractString, what::AbstractString)
    try
        st = stat(path)
        ispath(st) || throw(UserError("$what $path does not exist: check the path"))
        isfile(st) || throw(UserError("$what $path is not a regular file: pass a text file"))
        return SourceFile(abspath(path), st.size, st.mtime, st.ctime, st.inode, sample_sha256(path, st.size))
    catch e
        e isa Base.IOError || e isa SystemError || rethrow()
        throw(unreadable(path, what, e))
    end
end

# The SHA-256 of the file's first and last KEY_SAMPLE_BYTES (all of it when it is smaller):
# with the stat fields, a change that keeps size and times (a copy over it) still shows.
function sample_sha256(path::AbstractString, size::Integer)
    open(path, "r") do io
        size <= 2KEY_SAMPLE_BYTES && return bytes2hex(SHA.sha256(read(io)))
        ctx = SHA.SHA256_CTX()
        SHA.update!(ctx, read(io, KEY_SAMPLE_BYTES))
        seek(io, size - KEY_SAMPLE_BYTES)
        SHA.update!(ctx, read(io, KEY_SAMPLE_BYTES))
        return bytes2hex(SHA.digest!(ctx))
    end
end

"The sources as log lines and progress name them: a file's name, or how many files."
describe(sources::Vector{SourceFile}) = length(sources) == 1 ? basename(sources[1].path) : "$(length(sources)) files"

stat_fields(s::SourceFile) =
    Dict{String,Any}("path" => s.path, "bytes" => s.bytes, "mtime" => s.mtime, "ctime" => s.ctime, "inode" => s.inode)

# The entry's folder name: the first file's name, for people, and a key of every file's state.
function entry_name(sources::Vector{SourceFile})
    key = SHA.SHA256_CTX()
    SHA.update!(key, Vector{UInt8}(CORPUS_FORMAT))
    for s in sources
        SHA.update!(key, Vector{UInt8}(join((s.bytes, s.mtime, s.ctime, s.inode, s.sample_sha256), " ") * "\n"))
    end
    label = replace(splitext(basename(sources[1].path))[1], r"[^A-Za-z0-9._-]" => "_")
    length(sources) > 1 && (label *= "+$(length(sources) - 1)")
    return string(label, "-", bytes2hex(SHA.digest!(key))[1:20])
end

"""
    encoded_corpus(files, cache; what="corpus file", hooks=NO_HOOKS) -> EncodedCorpus

The text of `files` (paths, concatenated in order), encoded into the cache folder `cache` on
first use (two streaming passes: the vocabulary, counts and SHA-256, then the ids) and
memory-mapped from there. A file changed since it was encoded is encoded again; entries whose
files changed or are gone are removed when a new one is written. UserErrors (naming the file
as `what`) for a file that cannot be read, is not UTF-8, changes while it is encoded, or a
cache that cannot be written (a full disk among them). Reports "task" events and polls
`hooks` every chunk.
"""
function encoded_corpus(files::AbstractVector{<:AbstractString}, cache::AbstractString;
                        what::AbstractString = "corpus file", hooks::Hooks = NO_HOOKS)
    isempty(files) && throw(ArgumentError("a corpus needs at least one file"))
    sources = [SourceFile(f, what) for f in files]
    folder = joinpath(cache, entry_name(sources))
    if isdir(folder)
        try
            return load_entry(folder)
        catch e
            # corpus.json edited into another shape is damage too.
            e isa Union{DamagedEntry,KeyError,TypeError,MethodError,InexactError} || rethrow()
            why = e isa DamagedEntry ? e.why : "corpus.json: $(sprint(showerror, e))"
            # The cache is pyjlchar's own: a damaged entry is made again, not trusted.
            @warn "the encoded corpus in $folder was damaged ($why): encoding it again"
            rm(folder; recursive = true, force = true)
        end
    end
    seconds = build_entry(sources, folder, what, hooks)
    try
        return load_entry(folder; encode_seconds = seconds)
    catch e
        e isa DamagedEntry || rethrow()
        throw(UserError("the encoded corpus just written to $folder reads back damaged ($(e.why)): " *
                        "check the disk, then delete that folder and run again"))
    end
end

"Why a cache entry cannot be used as it is."
struct DamagedEntry <: Exception
    why::String
end

"""
    load_entry(folder; encode_seconds=nothing) -> EncodedCorpus

A published cache entry, its ids memory-mapped; a DamagedEntry when it is damaged (an id past
its vocabulary included).
"""
function load_entry(folder::AbstractString; encode_seconds::Union{Float64,Nothing} = nothing)
    damaged(why) = DamagedEntry(why)
    info = try
        JSON.parse_json(read(joinpath(folder, "corpus.json"), String))
    catch e
        e isa JSON.JSONError || e isa SystemError || e isa Base.IOError || rethrow()
        throw(damaged(sprint(showerror, e)))
    end
    get(info, "format", nothing) == CORPUS_FORMAT && haskey(ID_TYPES, get(info, "id_type", nothing)) ||
        throw(damaged("not a $CORPUS_FORMAT entry"))
    T, n = ID_TYPES[info["id_type"]], info["characters"]
    ids_path = joinpath(folder, "ids.bin")
    isfile(ids_path) && filesize(ids_path) == n * sizeof(T) || throw(damaged("ids.bin is not $n ids of $T"))
    ids = open(io -> Mmap.mmap(io, Vector{T}, n), ids_path)
    vocab = try
        vocab_from_list(info["vocab"]; source = joinpath(folder, "corpus.json"))
    catch e
        e isa UserError || rethrow()
        throw(damaged(e.msg))
    end
    # Ids are class ids 0 to length(chars) - 1; any other would train on garbage.
    isempty(ids) || maximum(ids) < length(vocab.chars) || throw(damaged("ids.bin holds ids past its vocabulary"))
    identity = CorpusIdentity(n, info["sha256"])
    return EncodedCorpus{T}([s["path"] for s in info["sources"]], ids, vocab, Vector{Int}(info["counts"]), identity,
                            info["bytes"], info["lines"], folder, encode_seconds)
end

# Encodes the sources into a temporary folder beside `folder` and renames it into place.
function build_entry(sources::Vector{SourceFile}, folder::AbstractString, what::AbstractString, hooks::Hooks)
    cache = dirname(folder)
    try
        mkpath(cache)
    catch e
        e isa Base.IOError || e isa SystemError || rethrow()
        throw(UserError("cannot make the corpus cache folder $cache ($(sprint(showerror, e))): set " *
                        "PYJLCHAR_CACHE to a writable folder"))
    end
    clear_stale_entries(cache)
    tmp = mx.temp_path(folder)
    rm(tmp; recursive = true, force = true)
    started = time()
    try
        mkdir(tmp)
        summary = encode_sources(sources, joinpath(tmp, "ids.bin"), what, hooks)
        mx.write_checked(joinpath(tmp, "corpus.json"), sprint(io -> JSON.write_json(io, summary; indent = 2)))
        mx.sync_file(joinpath(tmp, "corpus.json"))
        mx.disk_full(cache) && throw(SystemError("writing $tmp", Libc.ENOSPC))
        publish(tmp, folder)
    catch e
        failure = mx.write_failure(folder, e)   # while the temporary files still take their space
        rm(tmp; recursive = true, force = true)
        failure === nothing ? rethrow() : throw(failure)
    end
    seconds = time() - started
    total = sum(s.bytes for s in sources)
    mb = total / 1e6
    seconds >= LOG_ENCODING_AFTER_S &&
        @info "Encoded $(describe(sources)) ($(round(mb; digits = 1)) MB) in $(round(seconds; digits = 1)) s " *
              "($(round(mb / seconds; digits = 1)) MB/s) into $folder"
    return seconds
end

# The folder appears whole, or not at all: rename(2) itself (Julia's `rename` falls back to a
# copy). A process that published the same entry first wins: its folder is not empty.
function publish(tmp::AbstractString, folder::AbstractString)
    if ccall(:rename, Cint, (Cstring, Cstring), tmp, folder) != 0
        errnum = Libc.errno()
        errnum in (Libc.ENOTEMPTY, Libc.EEXIST) || throw(SystemError("renaming $tmp to $folder", errnum))
        rm(tmp; recursive = true, force = true)
    end
    mx.sync_folder(dirname(folder), folder)
end

"""
    clear_stale_entries(cache) -> the paths removed

Removes from the corpus cache the temporary folders of writers that died, and the entries
whose files changed or are gone (a later run could never use them).
"""
function clear_stale_entries(cache::AbstractString)
    removed = String[]
    for name in readdir(cache)
        path = joinpath(cache, name)
        isdir(path) && !islink(path) || continue
        temp = match(mx.TEMP_NAME, name)
        stale = temp === nothing ? entry_outdated(path) :
                !mx.writer_may_live(parse(Int, temp.captures[2]), mtime(path))
        stale || continue
        rm(path; recursive = true, force = true)
        push!(removed, path)
    end
    return removed
end

# Whether an entry's files changed or are gone; a folder that is no entry is left alone.
function entry_outdated(folder::AbstractString)
    info = try
        JSON.parse_json(read(joinpath(folder, "corpus.json"), String))
    catch e
        e isa JSON.JSONError || e isa SystemError || e isa Base.IOError || rethrow()
        return false
    end
    get(info, "format", nothing) == CORPUS_FORMAT || return false
    return any(info["sources"]) do recorded
        st = stat(recorded["path"])
        !isfile(st) || Dict{String,Any}("path" => recorded["path"], "bytes" => st.size, "mtime" => st.mtime,
                                        "ctime" => st.ctime, "inode" => Int(st.inode)) != recorded
    end
end

# The two passes over the text; writes the ids to `ids_path` and returns corpus.json's content.
function encode_sources(sources::Vector{SourceFile}, ids_path::AbstractString, what::AbstractString, hooks::Hooks)
    total = sum(s.bytes for s in sources)
    name = describe(sources)
    counts = zeros(Int, N_CODEPOINTS)
    sha = SHA.SHA256_CTX()
    crcs = zeros(UInt32, length(sources))
    last_char = Ref(NO_ID)
    progress = TaskProgress(hooks, "encoding $name (pass 1 of 2)", total, "bytes")
    for (k, s) in enumerate(sources)
        for_each_chunk(TextChunks(s.path, what, s.bytes)) do codepoints, bytes
            count_codepoints!(counts, codepoints)
            SHA.update!(sha, bytes)
            crcs[k] = CRC32c.crc32c(bytes, crcs[k])
            isempty(codepoints) || (last_char[] = codepoints[end])
            advance!(progress, length(bytes))
        end
    end
    n_chars = sum(counts)
    n_chars > 0 || throw(UserError("the $(what)s hold no text: use a corpus with some characters in it"))
    codepoints = findall(>(0), counts) .- 1
    ids = fill(NO_ID, N_CODEPOINTS)
    ids[codepoints .+ 1] = 0:length(codepoints)-1
    T = id_type(length(codepoints))
    progress = TaskProgress(hooks, "encoding $name (pass 2 of 2)", total, "bytes")
    write_ids(sources, ids, T, ids_path, crcs, what, progress)
    return Dict{String,Any}(
        "format" => CORPUS_FORMAT, "id_type" => string(T), "vocab" => [string(Char(cp)) for cp in codepoints],
        "counts" => counts[codepoints .+ 1], "characters" => n_chars, "bytes" => total,
        "lines" => counts[Int('\n') + 1] + (last_char[] == UInt32('\n') ? 0 : 1),
        "sha256" => bytes2hex(SHA.digest!(sha)), "sources" => stat_fields.(sources))
end

# Pass 2: each character's id, checked against pass 1 (the same characters, the same bytes).
function write_ids(sources, ids::Vector{UInt32}, ::Type{T}, ids_path, crcs, what, progress) where {T}
    out = Vector{T}(undef, CHUNK_BYTES)
    open(ids_path, "w") do io
        for (k, s) in enumerate(sources)
            crc = UInt32(0)
            for_each_chunk(TextChunks(s.path, what, s.bytes)) do codepoints, bytes
                map_ids!(out, ids, codepoints) || throw(changed_while_read(s.path, what))
                n = length(codepoints) * sizeof(T)
                written = GC.@preserve out unsafe_write(io, pointer(out), n)
                written == n || throw(SystemError("writing $ids_path", Libc.errno() == 0 ? Libc.EIO : Libc.errno()))
                crc = CRC32c.crc32c(bytes, crc)
                advance!(progress, length(bytes))
            end
            crc == crcs[k] || throw(changed_while_read(s.path, what))
        end
        flush(io)
    end
    mx.sync_file(ids_path)
end

function count_codepoints!(counts::Vector{Int}, codepoints::AbstractVector{UInt32})
    @inbounds for cp in codepoints
        counts[cp+1] += 1
    end
end

# False when a character has no id: the text is not the one pass 1 read.
function map_ids!(out::Vector{T}, ids::Vector{UInt32}, codepoints::AbstractVector{UInt32}) where {T}
    @inbounds for k in eachindex(codepoints)
        id = ids[codepoints[k]+1]
        id == NO_ID && return false
        out[k] = id % T
    end
    return true
end

"""
    class_map(from, to) -> Vector{Int32}

The class in vocabulary `to` of each id of vocabulary `from` (`to`'s unknown class for a
character it lacks): index `id + 1`.
"""
class_map(from::Vocabulary, to::Vocabulary) = Int32[get(to.class_of, c, unknown_class(to)) for c in from.chars]

"""
    corpus_summary(corpus, train_ratio) -> Dict

What `pyjlchar corpus info` shows of an EncodedCorpus: its "files", "characters", "bytes",
"lines", "sha256", every distinct character with its count, most frequent first ("frequencies",
ties in code-point order), the characters that train and validate at `train_ratio`, and its
"cache" entry ("folder", "id_type", "bytes" of ids, "encode_seconds": `nothing` when it was
already cached).
"""
function corpus_summary(corpus::EncodedCorpus, train_ratio::Real)
    n = length(corpus.ids)
    n_train = train_size(n, train_ratio)
    order = sortperm(corpus.counts; rev = true)
    return Dict{String,Any}(
        "files" => corpus.files, "characters" => n, "bytes" => corpus.bytes, "lines" => corpus.lines,
        "sha256" => corpus.identity.sha256,
        "frequencies" => [[string(corpus.vocab.chars[i]), corpus.counts[i]] for i in order],
        "train_ratio" => train_ratio, "train_characters" => n_train, "validation_characters" => n - n_train,
        "cache" => Dict{String,Any}("folder" => corpus.folder, "id_type" => string(eltype(corpus.ids)),
                                    "bytes" => sizeof(corpus.ids), "encode_seconds" => corpus.encode_seconds))
end

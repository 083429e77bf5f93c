# Reading text files a chunk at a time, decoded and checked to be UTF-8 as they go: a corpus of
# any size passes through a few MiB of buffers, never whole.

# Bytes read per chunk: large enough that per-chunk work (calls, events) is negligible, small
# enough that the buffers (five bytes per byte read) stay a few MiB.
const CHUNK_BYTES = 2^20

# The second byte of a multi-byte sequence may not start an overlong form, a surrogate or a
# code point above U+10FFFF: its range depends on the lead byte.
second_byte_range(lead::UInt8) =
    lead == 0xe0 ? (0xa0, 0xbf) : lead == 0xed ? (0x80, 0x9f) :
    lead == 0xf0 ? (0x90, 0xbf) : lead == 0xf4 ? (0x80, 0x8f) : (0x80, 0xbf)

iscontinuation(b::UInt8) = b & 0xc0 == 0x80

"""
    decode_utf8!(codepoints, bytes, n, at_end) -> (n_chars, n_used, bad)

Decodes `bytes[1:n]` into `codepoints[1:n_chars]`, as Julia's `isvalid(String, ...)` judges
UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). Unless `at_end`, a
character cut off by the end of the chunk is left undecoded: `n_used` bytes were consumed.
`bad` is the index of the first byte that starts no valid character (decoding stops there),
or 0.
"""
function decode_utf8!(codepoints::Vector{UInt32}, bytes::Vector{UInt8}, n::Int, at_end::Bool)
    i, k = 1, 0
    @inbounds while i <= n
        b = bytes[i]
        if b < 0x80
            k += 1
            codepoints[k] = b
            i += 1
            continue
        end
        len = 0xc2 <= b <= 0xdf ? 2 : 0xe0 <= b <= 0xef ? 3 : 0xf0 <= b <= 0xf4 ? 4 : 0
        len == 0 && return k, i - 1, i
        lo, hi = second_byte_range(b)
        cp = UInt32(b & (0xff >> (len + 1)))
        for j in 1:len-1
            if i + j > n
                at_end && return k, i - 1, i
                return k, i - 1, 0   # the rest of this character comes with the next chunk
            end
            c = bytes[i+j]
            (j == 1 ? lo <= c <= hi : iscontinuation(c)) || return k, i - 1, i
            cp = cp << 6 | (c & 0x3f)
        end
        k += 1
        codepoints[k] = cp
        i += len
    end
    return k, n, 0
end

"""
    TextChunks(path, what, size; chunk_bytes=CHUNK_BYTES)

The UTF-8 text of the file at `path` (`what` names it in errors, e.g. "corpus file"), `size`
bytes long, read in chunks of at most `chunk_bytes`: iterate it with `for_each_chunk`. A file
whose size is not `size` when it is read has changed meanwhile.
"""
struct TextChunks
    path::String
    what::String
    size::Int
    chunk_bytes::Int
    function TextChunks(path::AbstractString, what::AbstractString, size::Integer; chunk_bytes::Integer = CHUNK_BYTES)
        chunk_bytes >= 4 || throw(ArgumentError("a chunk must hold the longest UTF-8 character (4 bytes)"))
        return new(path, what, size, chunk_bytes)
    end
end

unreadable(path, what, e) =
    UserError("$what $path cannot be read ($(sprint(showerror, e))): check the path and its permissions")

changed_while_read(path, what) =
    UserError("$what $path changed while it was being read: wait until whatever writes it has " *
              "finished, then run again")

"""
    for_each_chunk(f, chunks::TextChunks)

Calls `f(codepoints, bytes)` for each chunk in order: the code points of its complete
characters and the bytes they were decoded from (views of buffers reused for the next chunk).
A UserError names the byte offset of a NUL byte (a binary file, or UTF-16) or of the first
sequence that is not UTF-8, and says how to convert the file; another one says that the file
changed size while it was read.
"""
function for_each_chunk(f, chunks::TextChunks)
    buffer = Vector{UInt8}(undef, chunks.chunk_bytes)
    codepoints = Vector{UInt32}(undef, chunks.chunk_bytes)
    io = try
        open(chunks.path, "r")
    catch e
        e isa SystemError || rethrow()
        throw(unreadable(chunks.path, chunks.what, e))
    end
    try
        carried, offset, left = 0, 0, chunks.size   # offset: the file offset of buffer[1]
        while left > 0
            n_read = min(left, length(buffer) - carried)
            try
                GC.@preserve buffer unsafe_read(io, pointer(buffer, carried + 1), n_read)
            catch e
                e isa EOFError && throw(changed_while_read(chunks.path, chunks.what))
                e isa Base.IOError || e isa SystemError || rethrow()
                throw(unreadable(chunks.path, chunks.what, e))
            end
            left -= n_read
            n = carried + n_read
            check_no_nul(chunks, buffer, n, offset)
            n_chars, n_used, bad = decode_utf8!(codepoints, buffer, n, left == 0)
            bad == 0 || throw(not_utf8(chunks, buffer[bad], offset + bad - 1))
            f(view(codepoints, 1:n_chars), view(buffer, 1:n_used))
            carried = n - n_used
            copyto!(buffer, 1, buffer, n_used + 1, carried)
            offset += n_used
        end
        eof(io) || throw(changed_while_read(chunks.path, chunks.what))
    finally
        close(io)
    end
    return nothing
end

not_utf8(chunks::TextChunks, byte::UInt8, at::Int) =
    UserError("$(chunks.what) $(chunks.path) is not UTF-8 (byte 0x$(string(byte; base = 16, pad = 2)) at offset $at): " *
              "convert it, e.g. with iconv -f latin1 -t utf-8")

# A NUL byte means a binary file or UTF-16, which the UTF-8 error would explain less well.
function check_no_nul(chunks::TextChunks, buffer::Vector{UInt8}, n::Int, offset::Int)
    found = GC.@preserve buffer ccall(:memchr, Ptr{UInt8}, (Ptr{UInt8}, Cint, Csize_t), buffer, 0, n)
    found == C_NULL && return
    at = offset + Int(found - pointer(buffer))
    throw(UserError("$(chunks.what) $(chunks.path) looks binary (NUL byte at offset $at): pass a UTF-8 text " *
                    "file (convert UTF-16 text with iconv)"))
end

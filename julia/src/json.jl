# A small JSON reader and writer: Julia's standard library has none, and the bridge, the
# checkpoint meta files and libmxnet's symbol JSON all need one.
module JSON

export parse_json, write_json, json

# ---- reading --------------------------------------------------------------------------------

mutable struct Reader
    s::String
    i::Int
    depth::Int   # objects and arrays open around the reader
end

# Deeper than any file pyjlchar or libmxnet writes; a text nested deeper (from elsewhere) is
# refused, not read until the stack runs out.
const MAX_DEPTH = 256

struct JSONError <: Exception
    msg::String
end
Base.showerror(io::IO, e::JSONError) = print(io, "invalid JSON: ", e.msg)

"""
    parse_json(text) -> Any

Objects become `Dict{String,Any}`, arrays `Vector{Any}`, integers `Int`, other numbers
`Float64`, `null` becomes `nothing`.
"""
function parse_json(text::AbstractString)
    r = Reader(String(text), 1, 0)
    v = read_value(r)
    skip_space(r)
    r.i <= ncodeunits(r.s) && fail(r, "trailing characters")
    return v
end

fail(r::Reader, what) = throw(JSONError(string(what, " at byte ", r.i)))

function skip_space(r::Reader)
    s = r.s
    while r.i <= ncodeunits(s) && codeunit(s, r.i) in (0x20, 0x09, 0x0a, 0x0d)
        r.i += 1
    end
end

function peek_byte(r::Reader)
    skip_space(r)
    r.i <= ncodeunits(r.s) || fail(r, "unexpected end")
    return codeunit(r.s, r.i)
end

function expect(r::Reader, word::String)
    n = ncodeunits(word)
    r.i + n - 1 <= ncodeunits(r.s) && SubString(r.s, r.i, r.i + n - 1) == word || fail(r, "expected $word")
    r.i += n
end

function read_value(r::Reader)
    b = peek_byte(r)
    if b == UInt8('{') || b == UInt8('[')
        r.depth < MAX_DEPTH || fail(r, "nested deeper than $MAX_DEPTH")
        r.depth += 1
        v = b == UInt8('{') ? read_object(r) : read_array(r)
        r.depth -= 1
        return v
    elseif b == UInt8('"')
        return read_string(r)
    elseif b == UInt8('t')
        expect(r, "true"); return true
    elseif b == UInt8('f')
        expect(r, "false"); return false
    elseif b == UInt8('n')
        expect(r, "null"); return nothing
    else
        return read_number(r)
    end
end

function read_object(r::Reader)
    d = Dict{String,Any}()
    r.i += 1
    peek_byte(r) == UInt8('}') && (r.i += 1; return d)
    while true
        peek_byte(r) == UInt8('"') || fail(r, "expected a key")
        k = read_string(r)
        peek_byte(r) == UInt8(':') || fail(r, "expected ':'")
        r.i += 1
        d[k] = read_value(r)
        b = peek_byte(r)
        r.i += 1
        b == UInt8('}') && return d
        b == UInt8(',') || fail(r, "expected ',' or '}'")
    end
end

function read_array(r::Reader)
    a = Any[]
    r.i += 1
    peek_byte(r) == UInt8(']') && (r.i += 1; return a)
    while true
        push!(a, read_value(r))
        b = peek_byte(r)
        r.i += 1
        b == UInt8(']') && return a
        b == UInt8(',') || fail(r, "expected ',' or ']'")
    end
end

function read_number(r::Reader)
    s = r.s
    start = r.i
    isfloat = false
    while r.i <= ncodeunits(s)
        c = codeunit(s, r.i)
        if UInt8('0') <= c <= UInt8('9') || c == UInt8('-') || c == UInt8('+')
        elseif c == UInt8('.') || c == UInt8('e') || c == UInt8('E')
            isfloat = true
        else
            break
        end
        r.i += 1
    end
    r.i == start && fail(r, "unexpected character")
    text = SubString(s, start, r.i - 1)
    v = isfloat ? tryparse(Float64, text) : tryparse(Int, text)
    v === nothing && (v = tryparse(Float64, text))
    v === nothing && fail(r, "bad number $(repr(text))")
    return v
end

function read_string(r::Reader)
    s = r.s
    r.i += 1
    io = IOBuffer()
    while true
        r.i <= ncodeunits(s) || fail(r, "unterminated string")
        c = codeunit(s, r.i)
        if c == UInt8('"')
            r.i += 1
            return String(take!(io))
        elseif c == UInt8('\\')
            r.i + 1 <= ncodeunits(s) || fail(r, "unterminated string")
            e = codeunit(s, r.i + 1)
            r.i += 2
            if e == UInt8('u')
                u = read_hex4(r)
                if 0xd800 <= u <= 0xdbff && r.i + 1 <= ncodeunits(s) &&
                        codeunit(s, r.i) == UInt8('\\') && codeunit(s, r.i + 1) == UInt8('u')
                    r.i += 2
                    lo = read_hex4(r)
                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00)
                end
                print(io, Char(u))
            else
                k = findfirst(==(e), b"\"\\/bfnrt")
                k === nothing && fail(r, "bad escape")
                write(io, b"\"\\/\b\f\n\r\t"[k])
            end
        else
            write(io, c)
            r.i += 1
        end
    end
end

function read_hex4(r::Reader)
    r.i + 3 <= ncodeunits(r.s) || fail(r, "bad \\u escape")
    v = tryparse(UInt32, SubString(r.s, r.i, r.i + 3); base = 16)
    v === nothing && fail(r, "bad \\u escape")
    r.i += 4
    return v
end

# ---- writing --------------------------------------------------------------------------------

"""
    write_json(io, value; indent=0)

Writes dicts (keys sorted, so the same value always gives the same bytes), vectors, tuples,
named tuples, strings, numbers, booleans and `nothing`; NaN and Inf become `null`, and any
other value its `string` form.
"""
write_json(io::IO, v; indent::Int = 0) = (write_value(io, v, indent, 0); nothing)

json(v; indent::Int = 0) = sprint(io -> write_json(io, v; indent = indent))

function newline(io, indent, level)
    indent > 0 || return
    print(io, '\n', ' '^(indent * level))
end

# Anything else (a VersionNumber, an enum, ...) is written as its string form.
write_value(io, v, indent, level) = write_string(io, string(v))
write_value(io, ::Nothing, indent, level) = print(io, "null")
write_value(io, v::Bool, indent, level) = print(io, v ? "true" : "false")
write_value(io, v::Integer, indent, level) = print(io, v)
write_value(io, v::AbstractFloat, indent, level) = isfinite(v) ? print(io, Float64(v)) : print(io, "null")
write_value(io, v::Symbol, indent, level) = write_string(io, String(v))
write_value(io, v::AbstractString, indent, level) = write_string(io, v)
write_value(io, v::AbstractChar, indent, level) = write_string(io, string(v))
write_value(io, v::NamedTuple, indent, level) = write_pairs(io, [(string(k), v[k]) for k in keys(v)], indent, level)
write_value(io, v::AbstractDict, indent, level) =
    write_pairs(io, sort!([(string(k), x) for (k, x) in v], by = first), indent, level)

function write_value(io, v::Union{AbstractVector,Tuple}, indent, level)
    print(io, '[')
    for (n, x) in enumerate(v)
        n > 1 && print(io, indent > 0 ? "," : ", ")
        newline(io, indent, level + 1)
        write_value(io, x, indent, level + 1)
    end
    isempty(v) || newline(io, indent, level)
    print(io, ']')
end

function write_pairs(io, pairs, indent, level)
    print(io, '{')
    for (n, (k, x)) in enumerate(pairs)
        n > 1 && print(io, indent > 0 ? "," : ", ")
        newline(io, indent, level + 1)
        write_string(io, k)
        print(io, ": ")
        write_value(io, x, indent, level + 1)
    end
    isempty(pairs) || newline(io, indent, level)
    print(io, '}')
end

function write_string(io, s::AbstractString)
    print(io, '"')
    for c in s
        if c == '"'
            print(io, "\\\"")
        elseif c == '\\'
            print(io, "\\\\")
        elseif c == '\n'
            print(io, "\\n")
        elseif c == '\r'
            print(io, "\\r")
        elseif c == '\t'
            print(io, "\\t")
        elseif c < ' ' || !isvalid(c)
            isvalid(c) || (c = '\ufffd')
            print(io, "\\u", string(UInt32(c), base = 16, pad = 4))
        else
            print(io, c)
        end
    end
    print(io, '"')
end

end # module

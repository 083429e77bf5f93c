# The library, its errors, and what the build can do.

# ccall resolves this name against the already-loaded libmxnet by its SONAME, so the path
# found at run time (MXNET_LIBRARY_PATH) decides which library every call goes to.
const libmxnet = "libmxnet.so"

"""An error reported by libmxnet (the text of MXGetLastError), or by this binding."""
struct MXError <: Exception
    msg::String
end
Base.showerror(io::IO, e::MXError) = print(io, e.msg)

"The libmxnet file to use: MXNET_LIBRARY_PATH, which the Python side sets from the mxnet wheel."
function library_path()
    path = get(ENV, "MXNET_LIBRARY_PATH", "")
    isempty(path) && throw(MXError("libmxnet not found: install the mxnet wheel " *
                                   "(pip install --no-deps mxnet==1.9.1) or set MXNET_LIBRARY_PATH"))
    isfile(path) || throw(MXError("libmxnet not found at MXNET_LIBRARY_PATH=$path: " *
                                  "point it at libmxnet.so or unset it to use the mxnet wheel"))
    return path
end

const LIB_HANDLE = Ref{Ptr{Cvoid}}(C_NULL)

function load_library()
    LIB_HANDLE[] == C_NULL || return LIB_HANDLE[]
    path = library_path()
    h = Libdl.dlopen(path, Libdl.RTLD_NOW | Libdl.RTLD_GLOBAL; throw_error = false)
    h === nothing && throw(MXError("libmxnet at $path could not be loaded " *
                                   "(is libgomp1 installed? apt-get install libgomp1)"))
    LIB_HANDLE[] = h
end

last_error() = unsafe_string(ccall((:MXGetLastError, libmxnet), Cstring, ()))

"""
    @mxcall(:MXFunction, (ArgTypes...), args...)

Calls a libmxnet C function and throws `MXError` with libmxnet's message when it fails.
"""
macro mxcall(fname, argtypes, args...)
    fname isa QuoteNode || error("@mxcall needs a quoted function name")
    quote
        ret = ccall(($fname, $libmxnet), Cint, $(esc(argtypes)), $(map(esc, args)...))
        ret == 0 || throw(MXError(last_error()))
        nothing
    end
end

"libmxnet's version as a VersionNumber (10901 -> v\"1.9.1\")."
function version()
    v = Ref{Cint}(0)
    @mxcall(:MXGetVersion, (Ref{Cint},), v)
    return VersionNumber(v[] ÷ 10000, (v[] ÷ 100) % 100, v[] % 100)
end

struct LibFeature
    name::Cstring
    enabled::Bool
end

"The build's features (MXLibInfoFeatures): name => enabled."
function features()
    p = Ref{Ptr{LibFeature}}(C_NULL)
    n = Ref{Csize_t}(0)
    @mxcall(:MXLibInfoFeatures, (Ref{Ptr{LibFeature}}, Ref{Csize_t}), p, n)
    return [unsafe_string(f.name) => f.enabled for f in unsafe_wrap(Array, p[], n[])]
end

has_feature(name::AbstractString) = any(f -> f.first == name && f.second, features())

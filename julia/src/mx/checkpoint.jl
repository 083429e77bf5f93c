# Checkpoints in Apache MXNet's format: `prefix-symbol.json` (the graph) and
# `prefix-0001.params` (arrays named `arg:<name>` and `aux:<name>`), readable by Python's
# mx.sym.load / mx.nd.load.

"""
    write_atomically(write, path)

Calls `write(tmp)` with a temporary path in `path`'s folder, then renames it to `path` in one
step: a run killed at any moment leaves either the old file or the new one, never half a file.
"""
function write_atomically(write::Function, path::AbstractString)
    tmp = joinpath(dirname(abspath(path)), "." * basename(path) * ".tmp" * string(getpid()))
    try
        write(tmp)
        Base.Filesystem.rename(tmp, path)   # rename(2) replaces `path` atomically
    catch
        rm(tmp; force = true)
        rethrow()
    end
    return path
end

# Saved arrays are named `kind:name` (`arg:fc1_weight`, `mean:fc1_weight`).
function split_key(key, filename::AbstractString)
    parts = split(string(key), ':'; limit = 2)
    length(parts) == 2 || throw(MXError("$filename has an array named $key, not kind:name"))
    return String(parts[1]), Symbol(parts[2])
end

checkpoint_params_file(prefix::AbstractString, epoch::Integer) = @sprintf("%s-%04d.params", prefix, epoch)
checkpoint_symbol_file(prefix::AbstractString) = "$prefix-symbol.json"

"""
    save_checkpoint(sym, prefix, epoch, arg_params, aux_params) -> params filename

Writes `prefix-symbol.json` and `prefix-%04d.params` (each atomically), creating the folder.
"""
function save_checkpoint(sym::SymbolicNode, prefix::AbstractString, epoch::Integer,
                         arg_params::AbstractDict, aux_params::AbstractDict)
    isempty(dirname(prefix)) || mkpath(dirname(prefix))
    write_atomically(tmp -> save(tmp, sym), checkpoint_symbol_file(prefix))
    arrays = Dict{String,NDArray}()
    for (name, arr) in arg_params
        arrays["arg:$name"] = arr
    end
    for (name, arr) in aux_params
        arrays["aux:$name"] = arr
    end
    filename = checkpoint_params_file(prefix, epoch)
    write_atomically(tmp -> save(tmp, arrays), filename)
    @info "Saved checkpoint to '$filename'"
    return filename
end

"""
    load_checkpoint(prefix, epoch) -> (symbol, arg_params, aux_params)

Reads what `save_checkpoint` (or Apache MXNet's Python API) wrote; the params are
Dict{Symbol,NDArray}s by name, without the `arg:`/`aux:` prefix.
"""
function load_checkpoint(prefix::AbstractString, epoch::Integer)
    sym = load(checkpoint_symbol_file(prefix), SymbolicNode)
    filename = checkpoint_params_file(prefix, epoch)
    arg_params, aux_params = Dict{Symbol,NDArray}(), Dict{Symbol,NDArray}()
    saved = load(filename, NDArray)
    saved isa AbstractDict || throw(MXError("$filename holds arrays without names: not a checkpoint"))
    for (key, arr) in saved
        kind, name = split_key(key, filename)
        kind == "arg" ? (arg_params[name] = arr) :
        kind == "aux" ? (aux_params[name] = arr) :
        throw(MXError("$filename has an array named $key: checkpoint names start with arg: or aux:"))
    end
    return sym, arg_params, aux_params
end

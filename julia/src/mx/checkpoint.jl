# Checkpoints in Apache MXNet's format: `prefix-symbol.json` (the graph) and
# `prefix-0001.params` (arrays named `arg:<name>` and `aux:<name>`), readable by Python's
# mx.sym.load / mx.nd.load.

import ..UserError   # PyJLChar's: the command line shows its message as one sentence

# ----- atomic, durable files ---------------------------------------------------------------------

"The temporary name `write_atomically` writes `path` under: `.NAME.tmp<pid>` in the same folder."
temp_path(path::AbstractString) =
    joinpath(dirname(abspath(path)), string(".", basename(path), ".tmp", getpid()))

const TEMP_NAME = r"^\.(.+)\.tmp([0-9]+)$"

"""
    write_atomically(write, path)

Calls `write(tmp)` with a temporary path in `path`'s folder, then makes the result `path` in
one step, so that a run killed at any moment, or a power loss, leaves either the old file or
the new one complete, never half a file:

1. `write(tmp)` writes the temporary file;
2. its data is flushed to the disk (fsync), and a full disk, which can cut a file short
   without an error from the writer, is checked for;
3. rename(2) replaces `path`;
4. the folder is flushed (fsync), so that the new name survives a power loss.

Any failure removes the temporary file and leaves `path` as it was. A failure to write (a
full disk, a Julia I/O error, a libmxnet error from its file functions) is a `UserError`
naming `path`; on a full disk it says so and asks for space. Other exceptions (an interrupt,
a bug in `write`) pass through unchanged.
"""
function write_atomically(write::Function, path::AbstractString)
    target = abspath(path)
    folder = dirname(target)
    tmp = temp_path(target)
    try
        write(tmp)
        isfile(tmp) || error("write_atomically: the function given wrote no file at $tmp")
        sync_file(tmp)
        # A writer that ignores a short write (Julia's IOStream beyond its buffer, libmxnet's
        # unchecked fclose) leaves a short file and a full disk behind: refuse it.
        disk_full(folder) && throw(SystemError("writing $tmp", Libc.ENOSPC))
        Base.Filesystem.rename(tmp, target)   # rename(2) replaces `path` atomically
    catch e
        failure = write_failure(target, e)   # while the temporary file still takes its space
        rm(tmp; force = true)
        failure === nothing ? rethrow() : throw(failure)
    end
    sync_folder(folder, target)
    return path
end

# The errno of a failed file operation, or nothing when `e` is not one.
errno_of(e::SystemError) = e.errnum
errno_of(e::Base.IOError) = e.code < 0 ? -e.code : nothing   # libuv's codes are -errno on Unix
errno_of(e) = nothing

const DISK_FULL_ERRNOS = (Libc.ENOSPC, Libc.EDQUOT)

# The UserError for a failed write of `target`, or nothing when `e` is not a write failure.
function write_failure(target::AbstractString, e)
    errnum = errno_of(e)
    errnum === nothing && !(e isa MXError) && return nothing
    message = sprint(showerror, e)
    if errnum in DISK_FULL_ERRNOS || occursin("No space left on device", message) ||
       occursin("Disk quota exceeded", message) || disk_full(dirname(target))
        cause = errnum == Libc.EDQUOT ? "disk quota exceeded" : "No space left on device"
        left = free_space(dirname(target))
        where = left === nothing ? "" : "; $(format_bytes(left.bytes)) left in $(dirname(target))"
        return UserError("cannot write $target: the disk is full ($cause$where): free some space " *
                         "there and try again (any earlier version of the file is kept)")
    end
    cause = errnum !== nothing ? Libc.strerror(errnum) : "libmxnet: " * libmxnet_cause(message)
    return UserError("cannot write $target ($cause): check that its folder exists, is writable " *
                     "and its disk works, then try again (any earlier version of the file is kept)")
end

# libmxnet's first line, without its "MXNetError: " and the C++ stack trace that follows.
function libmxnet_cause(message::AbstractString)
    line = strip(first(split(message, '\n')))
    return replace(line, r"^MXNetError:\s*" => "")
end

format_bytes(n::Integer) = n < 1024 ? "$n bytes" : n < 1024^2 ? "$(n ÷ 1024) KiB" : "$(Base.round(n / 1024^2; digits = 1)) MiB"

"""
    free_space(folder) -> (bytes = ..., inodes = ...) or nothing

What this process may still allocate on the filesystem that holds `folder` (statvfs(3): for
root, the blocks reserved for root count too), or nothing where that cannot be asked.
"""
function free_space(folder::AbstractString)
    # statvfs's fields are all unsigned longs on 64-bit Linux (glibc and musl alike).
    (Sys.islinux() && Sys.WORD_SIZE == 64) || return nothing
    buf = Base.zeros(UInt64, 16)   # struct statvfs: 11 fields and 6 spare ints (112 bytes)
    ccall(:statvfs, Cint, (Cstring, Ptr{UInt64}), folder, buf) == 0 || return nothing
    frsize, _, bfree, bavail, files, ffree, favail = buf[2], buf[3], buf[4], buf[5], buf[6], buf[7], buf[8]
    root = ccall(:geteuid, Cuint, ()) == 0
    inodes = files == 0 ? typemax(Int) : Int(root ? ffree : favail)   # 0 files: not counted (btrfs)
    return (bytes = Int(frsize * (root ? bfree : bavail)), inodes = inodes)
end

# Less than this left means a write can have failed for want of space.
const FULL_BELOW = 64 * 1024

"Whether the filesystem holding `folder` is (all but) full: under 64 KiB or no inodes left."
function disk_full(folder::AbstractString)
    left = free_space(folder)
    return left !== nothing && (left.bytes < FULL_BELOW || left.inodes == 0)
end

"Flushes the file at `path` to its disk (fsync(2)); a SystemError when the disk refuses."
function sync_file(path::AbstractString)
    open(path, "r") do io   # fsync(2) takes a read-only descriptor on Linux and the BSDs
        ccall(:fsync, Cint, (Cint,), fd(io)) == 0 || throw(SystemError("fsync $path", Libc.errno()))
    end
    return nothing
end

# Flushes the folder itself, so that a rename in it survives a power loss. A filesystem that
# cannot sync folders (EINVAL) or refuses to open one as a file is left as it is.
function sync_folder(folder::AbstractString, target::AbstractString)
    io = try
        open(folder, "r")
    catch e
        e isa SystemError || rethrow()
        return nothing
    end
    try
        if ccall(:fsync, Cint, (Cint,), fd(io)) != 0
            errnum = Libc.errno()
            errnum in (Libc.EINVAL, Libc.EBADF, Libc.EOPNOTSUPP, Libc.EROFS) && return nothing
            throw(UserError("wrote $target but could not flush its folder to the disk " *
                            "($(Libc.strerror(errnum))): the file may not survive a power loss; " *
                            "check the disk"))
        end
    finally
        close(io)
    end
    return nothing
end

"""
    write_checked(filename, data)

Writes `data` (a string or bytes) to `filename` and flushes it, throwing `SystemError` when the
system takes less than all of it. (Julia's `write` to a file returns a short count on a full
disk instead of throwing, and libmxnet's MXSymbolSaveToFile reports nothing at all.)
"""
function write_checked(filename::AbstractString, data::Union{AbstractString,AbstractVector{UInt8}})
    open(filename, "w") do io
        n = write(io, data)
        if n != sizeof(data)
            errnum = Libc.errno()
            throw(SystemError("writing $filename ($n of $(sizeof(data)) bytes)", errnum == 0 ? Libc.EIO : errnum))
        end
        flush(io)
    end
    return filename
end

"""
    clear_stale_temps(folder) -> the paths removed

Removes the temporary files (`.NAME.tmp<pid>`) that `write_atomically` left in `folder` when
its process died while writing (kill -9, a crash, a power loss). It never removes one that
a live process may still be writing: a temporary file is stale when no process has its pid,
or when the process that has it started after the file was last written (the pid was reused,
as by a restarted container; checked on Linux, elsewhere a live pid keeps its files). Files
are assumed to be written by processes of this machine.
"""
function clear_stale_temps(folder::AbstractString)
    removed = String[]
    isdir(folder) || return removed
    for name in readdir(folder)
        m = match(TEMP_NAME, name)
        m === nothing && continue
        path = joinpath(folder, name)
        pid = tryparse(Int, m.captures[2])
        (pid === nothing || !(0 < pid <= typemax(Cint))) && continue   # not one of ours
        st = lstat(path)
        isfile(st) || continue   # gone meanwhile, a link or a folder: not ours
        writer_may_live(pid, st.mtime) && continue
        rm(path; force = true)
        push!(removed, path)
    end
    return removed
end

# Whether process `pid` may be the one that wrote a file last modified at `written` (Unix time).
function writer_may_live(pid::Integer, written::Real)
    if ccall(:kill, Cint, (Cint, Cint), pid, 0) != 0   # signal 0: only asks whether it exists
        Libc.errno() == Libc.ESRCH && return false
    end
    started = process_start_time(pid)
    started === nothing && return true   # cannot tell: keep its files
    # The start time is known to the second (the boot time is): 2 s of slack.
    return started <= written + 2
end

# When process `pid` started (Unix time), from Linux's /proc; nothing where unknown.
function process_start_time(pid::Integer)
    Sys.islinux() || return nothing
    try
        stat = read("/proc/$pid/stat", String)
        # The fields after the command name, which is in parentheses and may hold anything:
        # the 22nd field of the line, the start time in clock ticks since boot, is the 20th.
        fields = split(stat[findlast(')', stat)+2:end])
        ticks = parse(Int, fields[20])
        btime = nothing
        for line in eachline("/proc/stat")
            startswith(line, "btime ") && (btime = parse(Int, line[7:end]))
        end
        hz = ccall(:sysconf, Clong, (Cint,), 2)   # _SC_CLK_TCK
        (btime === nothing || hz <= 0) && return nothing
        return btime + ticks / hz
    catch e
        e isa Union{SystemError,Base.IOError,ArgumentError,BoundsError} || rethrow()
        return nothing   # the process ended meanwhile, or /proc reads otherwise
    end
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

Writes `prefix-symbol.json` and `prefix-%04d.params` (each with `write_atomically`), creating
the folder.
"""
function save_checkpoint(sym::SymbolicNode, prefix::AbstractString, epoch::Integer,
                         arg_params::AbstractDict, aux_params::AbstractDict)
    isempty(dirname(prefix)) || mkpath(dirname(prefix))
    write_atomically(tmp -> save(tmp, sym), checkpoint_symbol_file(prefix))
    return save_params(checkpoint_params_file(prefix, epoch), arg_params, aux_params)
end

"""
    save_params(filename, arg_params, aux_params)

Writes the arrays as `arg:<name>` and `aux:<name>`, Apache MXNet's layout of a .params file
(`mx.nd.load` reads it), atomically.
"""
function save_params(filename::AbstractString, arg_params::AbstractDict, aux_params::AbstractDict)
    arrays = Dict{String,NDArray}()
    for (name, arr) in arg_params
        arrays["arg:$name"] = arr
    end
    for (name, arr) in aux_params
        arrays["aux:$name"] = arr
    end
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

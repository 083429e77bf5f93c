# One writer per run, in a folder it can write: checked before any work is done.

"""
    check_writable(dir)

Makes the checkpoint folder `dir` if need be and writes a file there, so that a read-only or
impossible location is found before training, not after an epoch (a UserError naming it).
"""
function check_writable(dir::AbstractString)
    fix = "choose a folder you can write with --checkpoint-dir"
    try
        mkpath(dir)
    catch e
        e isa SystemError || e isa Base.IOError || e isa ArgumentError || rethrow()
        blocking = dir
        while !ispath(blocking) && dirname(blocking) != blocking
            blocking = dirname(blocking)
        end
        reason = isdir(blocking) ? sprint(showerror, e) : "$blocking is a file"
        throw(UserError("cannot make the checkpoint folder $dir ($reason): $fix"))
    end
    probe = joinpath(dir, ".pyjlchar-write-test-$(getpid())")
    try
        write(probe, "")
        rm(probe)
    catch e
        e isa SystemError || e isa Base.IOError || rethrow()
        throw(UserError("cannot write checkpoints in $dir ($(sprint(showerror, e))): $fix"))
    end
end

const LOCK_EX, LOCK_NB = Cint(2), Cint(4)

lock_path(prefix::AbstractString) = string(prefix, ".lock")

# The OS file descriptor of an open file, as a Cint on Julia 1.5 (an Int) and later (a RawFD).
raw_fd(io::IOStream) = (f = fd(io); f isa Integer ? Cint(f) : reinterpret(Cint, f))

# The lock file's content, the holder's pid, written unbuffered: on a full disk it is merely
# left out (the flock alone is the lock), and no buffered write fails later on close.
function set_content(io::IOStream, text::String)
    ccall(:ftruncate, Cint, (Cint, Int64), raw_fd(io), 0)
    ccall(:pwrite, Cssize_t, (Cint, Ptr{UInt8}, Csize_t, Int64), raw_fd(io), text, sizeof(text), 0)
    return nothing
end

"""
    with_run_lock(f, prefix)

Runs `f()` holding the run's lock, `<prefix>.lock`, an flock that the system releases when
this process ends however it ends. A second writer is refused, naming the process that holds
it; the file of a process that is gone is taken over with a notice. `sample` and `eval` take
no lock: they only read complete files.
"""
function with_run_lock(f, prefix::AbstractString)
    path = lock_path(prefix)
    io = open(path, "a+")   # appending keeps the holder's pid readable for a refused writer
    try
        if ccall(:flock, Cint, (Cint, Cint), raw_fd(io), LOCK_EX | LOCK_NB) != 0
            holder = strip(read(path, String))
            throw(UserError("another process$(isempty(holder) ? "" : " (pid $holder)") is training the run at " *
                            "$prefix: wait for it to end or stop it, or train into another checkpoint_dir or name"))
        end
        left = strip(read(path, String))
        isempty(left) || @info "Taking over $path from process $left, which is gone"
        set_content(io, string(getpid()))
        return f()
    finally
        set_content(io, "")   # an empty lock file: released in order
        close(io)
    end
end

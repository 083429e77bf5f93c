# The requests replayed into pyjlchar's system image. pyjlchar/ops/image_build.py runs this file
# in Julia's output mode:
#
#     julia --sysimage-native-code=yes --output-o sys.o -J <Julia's own image> replay.jl REQUESTS
#
# and everything compiled while it runs is saved, as native code, in the new image. REQUESTS
# holds one bridge request per line, as the CLI's own Python functions made them for a tiny run
# (train and sample with either graph, resume, eval, visualize, doctor, a UserError), each after
# "ok" or "error", the outcome expected. Replaying them through the C entry point Python calls
# compiles what those commands run, with the argument types they pass. A `handle` or `handles`
# keyword of 0 stands for the handle last returned.

# Output mode starts Julia without Base's initialisation, which loading packages needs (the
# image sets these again when it starts).
Base.reinit_stdio()
Sys.__init__()
Base.init_depot_path()
Base.init_load_path()

# The bridge resolves the functions Python names from Main, where Python loads PyJLChar too.
using PyJLChar
# Julia has read the sources: pyjlchar/ops/image_build.py checks that they are still the ones it hashed.
println("replay: PyJLChar loaded")
flush(stdout)

# The replay's own names stay in this module (the image's Main gains only its name).
module PyJLCharReplay

using PyJLChar

# Output mode also defers every module's __init__ to the image's start; the requests need
# them now (libmxnet loaded, its legacy operators registered). Inner modules first, as Julia does.
function initialise(m::Module, done::Set{Module} = Set{Module}())
    push!(done, m)
    for name in names(m; all = true)
        sub = isdefined(m, name) ? getfield(m, name) : nothing
        sub isa Module && parentmodule(sub) === m && !(sub in done) && initialise(sub, done)
    end
    isdefined(m, :__init__) && getfield(m, :__init__)()
end

# The progress callback Python passes; events are dropped here, but still sent.
ignore_event(event::Ptr{UInt8}, size::Int64) = Cint(0)

# The reply as Python's ctypes sees it (Bridge.jl's Reply): JSON pointer and length, arrays, count.
function replay(entry::Ptr{Cvoid}, callback::Ptr{Cvoid}, request::String)
    reply = zeros(Int64, 4)
    ccall(entry, Cint, (Ptr{UInt8}, Int64, Ptr{Cvoid}, Int64, Ptr{Cvoid}, Ptr{Int64}),
          request, sizeof(request), C_NULL, 0, callback, reply)
    return unsafe_string(Ptr{UInt8}(reply[1]), reply[2])
end

function main(requests_file::AbstractString)
    initialise(PyJLChar)
    entry = Ptr{Cvoid}(PyJLChar.Bridge.entry_pointer())
    callback = @cfunction(ignore_event, Cint, (Ptr{UInt8}, Int64))
    lines = readlines(requests_file)
    handle = "0"
    for line in lines
        expect, request = split(line, ' '; limit = 2)
        request = replace(request, r"\"(handle|handles)\": (\[?)0\b" =>
                                   SubstitutionString("\"\\1\": \\g<2>$handle"))
        answer = replay(entry, callback, String(request))
        returned = match(r"\"handle\": (\d+)", answer)
        returned === nothing || (handle = returned[1])
        failed = startswith(answer, "{\"error\"")
        fn = match(r"\"fn\": \"([^\"]*)\"", request)[1]
        if failed != (expect == "error")
            println("replay: $fn ", failed ? "failed" : "succeeded", " unexpectedly: ", first(answer, 300))
        end
    end
    println("replay: replayed $(length(lines)) requests")
    # The engine's arrays are freed while libmxnet still runs, not in the exit's clean-up.
    GC.gc()
end

main(ARGS[1])

end # module

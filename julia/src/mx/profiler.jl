# libmxnet's profiler: how long each operator and C API call took, aggregated.

"""
    profile(f) -> (f's result, Dict(domain => Dict(name => (count, total_ms))))

Runs `f()` with libmxnet's profiler on and returns what it recorded, per domain ("operator",
"MXNET_C_API", ...) and name: the number of calls and their total time in milliseconds. The
profiler's bookkeeping slows the calls it times: compare its figures with each other, and time
the whole without it.
"""
function profile(f)
    configure_profiler()
    aggregate_stats(reset = true)   # drop what an earlier profile left
    @mxcall(:MXSetProcessProfilerState, (Cint, Cint, Ptr{Cvoid}), 1, 0, C_NULL)
    result = try
        f()
    finally
        wait_all()
        @mxcall(:MXSetProcessProfilerState, (Cint, Cint, Ptr{Cvoid}), 0, 0, C_NULL)
    end
    stats = parse_json(aggregate_stats(reset = true))["Time"]
    @mxcall(:MXDumpProfile, (Cint,), 0)   # forgets the trace so far
    return result, Dict(domain => Dict(name => (Int(row["Count"]), Float64(row["Total"])) for (name, row) in rows)
                        for (domain, rows) in stats)
end

# The profiler also keeps a trace of every call, which it writes to its `filename` when dumped
# and at exit (by default profile.json in the working directory; it replaces the file, so it
# must be a file of ours): only the aggregate is wanted, so the trace goes to a folder that
# Julia removes at exit. The settings are taken once: libmxnet refuses them again once a trace
# has been written.
const PROFILER_CONFIGURED = Ref(false)

function configure_profiler()
    PROFILER_CONFIGURED[] && return
    trace = joinpath(mktempdir(), "trace.json")
    keys, vals = ["profile_all", "aggregate_stats", "filename"], ["true", "true", trace]
    @mxcall(:MXSetProcessProfilerConfig, (Cint, Ptr{Cstring}, Ptr{Cstring}, Ptr{Cvoid}),
            length(keys), keys, vals, C_NULL)
    PROFILER_CONFIGURED[] = true
end

# The aggregate statistics as JSON: {"Time": {domain: {name: {"Count", "Total", ...}}}}.
function aggregate_stats(; reset::Bool)
    out = Ref{Cstring}()
    @mxcall(:MXAggregateProfileStatsPrintEx, (Ref{Cstring}, Cint, Cint, Cint, Cint), out, reset, 1, 0, 0)
    return unsafe_string(out[])
end

# How long-running work talks to whoever runs it. The char-lstm never calls the Python bridge:
# the bridge passes its own hooks in (commands.jl); plain Julia gets the silent default.

"""
    Hooks(; progress, poll)

`progress(event; fields...)` reports how work goes (e.g. a batch done); `poll()` is called
often enough to stop the work within a second, and only where stopping is safe: it stops it by
throwing `InterruptException`, so `finally` blocks (saving a checkpoint) still run. Log lines
go through Julia's logging.
"""
struct Hooks
    progress::Function
    poll::Function
end
Hooks(; progress::Function = (event; fields...) -> nothing, poll::Function = () -> nothing) =
    Hooks(progress, poll)

const NO_HOOKS = Hooks()

"""
    TaskProgress(hooks, what, total, unit)

Reports a long task through `hooks` as `advance!` counts the work done: "task" events
(`what`, `done` and `total` in `unit`s, "bytes" or "chars"), at most ten a second and always
the last, and a poll every call.
"""
mutable struct TaskProgress
    hooks::Hooks
    what::String
    total::Int
    unit::String
    done::Int
    reported::Float64   # when the last event went out
end
TaskProgress(hooks::Hooks, what::AbstractString, total::Integer, unit::AbstractString) =
    TaskProgress(hooks, what, total, unit, 0, 0.0)

function advance!(p::TaskProgress, n::Integer)
    p.done += n
    if p.done >= p.total || time() - p.reported >= 0.1
        p.hooks.progress("task"; what = p.what, done = p.done, total = p.total, unit = p.unit)
        p.reported = time()
    end
    p.hooks.poll()
end

# How long-running work talks to whoever runs it. The char-lstm never calls the Python bridge:
# the bridge passes its own hooks in (commands.jl); plain Julia gets the silent default.

"""
    Hooks(; progress, poll)

`progress(event; fields...)` reports how work goes (e.g. a batch done); `poll()` is called
often enough to stop the work within a second: it stops it by throwing `InterruptException`,
so `finally` blocks (saving a checkpoint) still run. Log lines go through Julia's logging.
"""
struct Hooks
    progress::Function
    poll::Function
end
Hooks(; progress::Function = (event; fields...) -> nothing, poll::Function = () -> nothing) =
    Hooks(progress, poll)

const NO_HOOKS = Hooks()

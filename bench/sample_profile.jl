# Where a sampling step's time goes: libmxnet's operators against everything else.
#
#     ./scripts/julia bench/sample_profile.jl [STREAMS=1] [STEPS=3000]
#
# Draws STEPS characters per stream as `pyjlchar sample` does (the fused cell's StepPredictor,
# TextDraw's draw!) with the original's model (2 x 256, embedding 256, 65 classes, random
# weights), first timed alone, then again under libmxnet's profiler for the split. Prints a
# markdown table per step: each operator's time, the rest of the cached op's call (libmxnet's
# own work around the operators), the copies of the ids in and the probabilities out, and what
# is left of the plain step's time (Julia: the draw, the loop). The profiler's bookkeeping
# slows the calls it times, so the parts are its figures and the total is the plain run's.
using PyJLChar
using Printf
using Random: MersenneTwister
const P = PyJLChar
const mx = P.mx

streams = length(ARGS) >= 1 ? parse(Int, ARGS[1]) : 1
steps = length(ARGS) >= 2 ? parse(Int, ARGS[2]) : 3000
spec = P.ModelSpec(layers = 2, hidden = 256, embed = 256, n_class = 65, dropout = 0.0, cell = :fused, name = :ptb)
mx.srand(1)
predictor = P.step_predictor(spec, P.initial_params(spec, mx.UniformInitializer(0.1)), streams)
drawing = P.TextDraw(predictor, MersenneTwister(1), 1.0, 0, 1.0, spec.n_class - 1, zeros(Int32, streams))
P.draw!(drawing, 200)   # compilation, the cached op's first (planning) call

plain_s = @elapsed P.draw!(drawing, steps)
_, stats = mx.profile(() -> P.draw!(drawing, steps))
per_step(ms) = 1000ms / steps   # µs
plain_us = 1e6plain_s / steps

operators = sort([(name, per_step(ms)) for (name, (_, ms)) in get(stats, "operator", Dict())]; by = last, rev = true)
op_us = reduce(+, last.(operators); init = 0.0)
api = get(stats, "MXNET_C_API", Dict())
# MXInvokeCachedOpEx calls MXInvokeCachedOp, which the profiler times with the operators inside.
invoke_us = per_step(max(get(api, "MXInvokeCachedOp", (0, 0.0))[2], get(api, "MXInvokeCachedOpEx", (0, 0.0))[2]))
copies_us = per_step(sum(get(api, name, (0, 0.0))[2] for name in ("MXNDArraySyncCopyFromCPU", "MXNDArraySyncCopyToCPU")))

println("Sampling step, fused cell, $streams stream(s), OMP_NUM_THREADS=$(get(ENV, "OMP_NUM_THREADS", "unset")), ",
        "libmxnet engine $(get(ENV, "MXNET_ENGINE_TYPE", "default")): ",
        @sprintf("%.1f µs per step (%.0f chars/s)", plain_us, steps * streams / plain_s))
println()
println("| part of a step | µs | share |")
println("|---|---:|---:|")
row(what, us) = println(@sprintf("| %s | %.1f | %.0f%% |", what, us, 100us / plain_us))
for (name, us) in operators
    row("operator $name", us)
end
row("**operators**", op_us)
row("libmxnet around the operators (the cached op's call)", max(0.0, invoke_us - op_us))
row("copies in and out (ids, probabilities)", copies_us)
row("the rest (Julia: the draw, the loop, other calls)", max(0.0, plain_us - invoke_us - copies_us))

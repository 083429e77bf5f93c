# Where a sampling step's time goes: libmxnet's operators against everything else.
#
#     ./scripts/julia bench/sample_profile.jl [STREAMS=1] [STEPS=3000]
#
# Draws STEPS characters per stream as `pyjlchar sample` does (the fused graph's StepPredictor,
# TextDraw's draw!) with the original's model (2 x 256, embedding 256, 65 classes, random
# weights), timed against the training graph bound for one step (the way sampling ran
# before). Prints a markdown table of a step's parts, each timed alone: the RNN operator, the
# other operators with libmxnet's call around them, the copies of the ids in and the
# probabilities out, and the rest of the step (Julia's draw and loop, and what the parts cost
# more in the loop than alone); then the operators' shares under
# libmxnet's profiler, whose bookkeeping outweighs these small calls too much to time them.
using PyJLChar
using Printf
using Random: MersenneTwister
const P = PyJLChar.CharLSTM
const mx = PyJLChar.mx

streams = length(ARGS) >= 1 ? parse(Int, ARGS[1]) : 1
steps = length(ARGS) >= 2 ? parse(Int, ARGS[2]) : 3000
spec = P.ModelSpec(name = "ptb", cell = :lstm, graph = :fused, layers = 2, hidden = 256, embed = 256, dropout = 0.0,
                   n_class = 65)
mx.srand(1)
params = P.initial_params(spec, mx.UniformInitializer(0.1))
predictor = P.step_predictor(spec, params, streams)
drawing = P.TextDraw(predictor, MersenneTwister(1), 1.0, 0, 1.0, spec.n_class - 1, zeros(Int32, streams))
P.draw!(drawing, 200)   # compilation, the cached op's first (planning) call

# Against the way sampling ran before (the training graph bound for one step, its states
# copied back after each), on the same weights, rounds alternating.
before = P.TextDraw(P.StatefulPredictor(spec, params, 1, streams),
                    MersenneTwister(1), 1.0, 0, 1.0, spec.n_class - 1, zeros(Int32, streams))
P.draw!(before, 200)
rounds = [(@elapsed(P.draw!(drawing, steps)), @elapsed(P.draw!(before, steps))) for _ in 1:5]
plain_s, before_s = (sort(getindex.(rounds, i))[3] for i in 1:2)   # medians
per_step(seconds) = 1e6seconds / steps   # µs
plain_us = per_step(plain_s)

# The step's parts, each timed alone without the profiler (whose bookkeeping would outweigh
# the small calls): the whole cached op, the RNN operator in a cached op of its own on the
# same arrays, the copies of the ids in and the probabilities out; the rest is Julia's.
timed(f) = (f(); sort([@elapsed(foreach(_ -> f(), 1:steps)) for _ in 1:3])[2])
set = predictor.current
invoke_us = per_step(timed(() -> mx.invoke!(predictor.op, predictor.inputs[set], predictor.outputs[set])))
var(name) = mx.Variable(Symbol(:ptb_, name))
rnn = mx.RNN(data = var(:x), parameters = var(:lstm_parameters), state = var(:h), state_cell = var(:c),
             state_size = spec.hidden, num_layers = spec.layers, mode = :lstm, state_outputs = true, name = :rnn)
rnn_op = mx.CachedOp(mx.Group(rnn[1], rnn[2], rnn[3]))
state_size = (spec.hidden, streams, spec.layers)
rnn_arrays = Dict(:ptb_x => mx.zeros(spec.embed, streams, 1), :ptb_lstm_parameters => params[:ptb_lstm_parameters],
                  :ptb_h => mx.zeros(state_size), :ptb_c => mx.zeros(state_size))
rnn_in = mx.handles([rnn_arrays[name] for name in rnn_op.arguments])
rnn_out = mx.handles([mx.zeros(spec.hidden, streams, 1), mx.zeros(state_size), mx.zeros(state_size)])
rnn_us = per_step(timed(() -> mx.invoke!(rnn_op, rnn_in, rnn_out)))
copies_us = per_step(timed(() -> (copy!(predictor.ids, predictor.staging); copy!(predictor.out, predictor.probs))))
# libmxnet's profiler for the operators' relative sizes.
_, stats = mx.profile(() -> P.draw!(drawing, steps))
operators = sort([(name, ms) for (name, (_, ms)) in get(stats, "operator", Dict())]; by = last, rev = true)
op_total = reduce(+, last.(operators); init = 0.0)

println("Sampling step, fused graph, $streams stream(s), OMP_NUM_THREADS=$(get(ENV, "OMP_NUM_THREADS", "unset")), ",
        "libmxnet engine $(get(ENV, "MXNET_ENGINE_TYPE", "default")): ",
        @sprintf("%.1f µs per step (%.0f chars/s); the training graph bound for one step: %.1f µs (%.0f chars/s), ",
                 plain_us, steps * streams / plain_s, per_step(before_s), steps * streams / before_s),
        @sprintf("%.2fx as long (medians of 5 alternating rounds)", before_s / plain_s))
println()
println("| part of a step | µs | share |")
println("|---|---:|---:|")
row(what, us) = println(@sprintf("| %s | %.1f | %.0f%% |", what, us, 100us / plain_us))
row("the RNN operator (oneDNN's LSTM), alone", rnn_us)
row("the other operators and libmxnet's call around them", max(0.0, invoke_us - rnn_us))
row("copies in and out (ids, probabilities)", copies_us)
row("the rest: Julia (the draw, the loop), and what the parts cost more together than alone", max(0.0, plain_us - invoke_us - copies_us))
println()
println("Operators' shares of their time under libmxnet's profiler: ",
        join([@sprintf("%s %.0f%%", name, 100ms / op_total) for (name, ms) in operators], ", "))

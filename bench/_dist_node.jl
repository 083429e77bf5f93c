# One node of bench/distributed.py's communication job (a loopback parameter-server job; the
# role comes from DMLC_ROLE): the scheduler and the servers serve; a worker pushes and pulls
# gradients of the char-lstm's real parameter sizes through a dist_sync store, as
# mx.train_batch! does after every batch, and times each round.
# ARGS: output file (a worker's JSON), cell, layers, hidden, embed, n_class, warm-up rounds, rounds.
using PyJLChar
const mx = PyJLChar.mx

role = mx.ps_role()
if role in (:scheduler, :server)
    mx.run_server(mx.KVStore(:dist_sync))
    exit(0)
end
role == :worker || error("bench/_dist_node.jl runs as a node of a parameter-server job (DMLC_ROLE)")

out, cell = ARGS[1], ARGS[2]
layers, hidden, embed, n_class, warmup, rounds = parse.(Int, ARGS[3:8])
graph = cell == "lstm" ? :unrolled : Symbol(cell)   # the bench's "cells" are pyjlchar's graphs
spec = PyJLChar.CharLSTM.ModelSpec(; name = "ptb", cell = :lstm, graph, layers, hidden, embed, n_class, dropout = 0.0)
shapes = Dict(PyJLChar.CharLSTM.parameter_shapes(spec))
# Keys as DeviceOptimizer numbers them: each parameter's place among the sorted names.
names = Base.sort(collect(keys(shapes)))
# Zeros: the sums stay finite however many rounds run (the values do not change the bytes).
grads = [mx.zeros(shapes[name]) for name in names]

kv = mx.KVStore(:dist_sync)
for (key, grad) in enumerate(grads)
    mx.init!(kv, key, grad)
end

function round!(kv, grads)
    started = time_ns()
    for (key, grad) in enumerate(grads)
        push!(kv, key, [grad])
        mx.pull!(kv, key, [grad])
    end
    mx.wait_all()   # the pulls have landed: the round is over, not just queued
    return (time_ns() - started) / 1e9
end

foreach(_ -> round!(kv, grads), 1:warmup)
seconds = [round!(kv, grads) for _ in 1:rounds]
values = sum(prod(shapes[name]) for name in names)
write(out, PyJLChar.JSON.json(Dict("rank" => mx.rank(kv), "seconds" => seconds, "keys" => length(names),
                                   "values" => values,
                                   "sizes" => Dict(String(name) => prod(shapes[name]) for name in names))))
mx.close!(kv)

# One node of a loopback parameter-server job, for tests/test_distributed.py: the scheduler or
# a server serves (DMLC_ROLE); a worker trains a linear regression on its share of each global
# batch through a distributed store, or (with no DMLC_ROLE) one process trains on whole batches.
# ARGS: output file for the trained weights, number of steps, the store's type, the gradient
# compression ("none" or "2bit"). NODE_INPUTS (default 4) changes a worker's model.
using PyJLChar
const mx = PyJLChar.mx
import Random

out, steps, kvstore, compression = ARGS[1], parse(Int, ARGS[2]), Symbol(ARGS[3]), ARGS[4]
role = mx.ps_role()
if role in (:scheduler, :server)
    mx.run_server(mx.KVStore(kvstore))
    exit(0)
end

global_batch = 8
rng = Random.MersenneTwister(3)
X = randn(rng, Float32, 4, global_batch * steps)
y = vec(Float32[1 -2 0.5 3] * X)
X = X[1:parse(Int, get(ENV, "NODE_INPUTS", "4")), :]
kv = role == :worker ? mx.KVStore(kvstore) : nothing
compression == "none" || mx.set_gradient_compression!(kv, compression; threshold = 0.5)
workers, rank = kv === nothing ? (1, 0) : (mx.group_size(kv), mx.rank(kv))
# Worker r takes columns r+1, r+1+workers, ... of every global batch: its share, in order.
mine = [b * global_batch + i for b in 0:steps-1 for i in 1:global_batch if (i - 1) % workers == rank]
data = mx.ArrayDataProvider(:data => X[:, mine], :label => y[mine]; batch_size = global_batch ÷ workers)
net = mx.LinearRegressionOutput(mx.FullyConnected(mx.Variable(:data); num_hidden = 1, name = :fc),
                                mx.Variable(:label); name = :out)
mx.srand(1)
model = mx.FeedForward(net)
try
    Base.CoreLogging.with_logger(Base.CoreLogging.NullLogger()) do
        mx.fit(model, mx.SGD(lr = 0.1, momentum = 0.5), data; n_epoch = 1, eval_metric = mx.MSE(),
               kvstore = kv === nothing ? :local : kv)
    end
catch e
    # As pyjlchar's own job nodes do: a worker that failed inside a job leaves ps-lite's
    # threads running, and a normal exit can hang or abort under them.
    showerror(stderr, e)
    println(stderr)
    flush(stderr)
    ccall(:_exit, Cvoid, (Cint,), 1)
end
write(out, join(vcat(vec(copy(model.arg_params[:fc_weight])), copy(model.arg_params[:fc_bias])), " "))
kv === nothing || mx.close!(kv)

# The Julia side of bench/mx_layer.py: the char-lstm training step through PyJLChar's `mx`
# layer, with the pieces `mx.fit` runs per batch (DeviceExecutors bound once, load_inputs!,
# train_batch!: forward(is_train=true), backward, one fused adam_update per parameter).
module MXLayerBench

using PyJLChar
const mx = PyJLChar.mx

mutable struct Bench
    model::mx.FeedForward
    devices::mx.DeviceExecutors
    opt::mx.DeviceOptimizer
    batch::mx.DataBatch                      # staging NDArrays, as a data provider's batch
    onehot::Vector{Vector{Matrix{Float32}}}  # host batches: [k][t] is (n_class, batch_size)
    labels::Vector{Vector{Vector{Float32}}}
    next::Int
end

const BENCH = Ref{Union{Nothing,Bench}}(nothing)

"""
    setup(ids, init_path; layers, hidden, embed, n_class, learning_rate, weight_decay, grad_clip,
          init_scale, seed) -> parameter names

`ids` (Julia size (seq_len + 1, batch_size, pool)) are the class ids of `pool` batches. Binds
the LSTM once, initializes its parameters as `fit` does and writes them to `init_path` (the
other side starts from the same values).
"""
function setup(ids::AbstractArray{<:Integer,3}, init_path::AbstractString; layers::Integer,
               hidden::Integer, embed::Integer, n_class::Integer, learning_rate::Real,
               weight_decay::Real, grad_clip::Real, init_scale::Real, seed::Integer)
    seq_len, batch_size, pool = size(ids, 1) - 1, size(ids, 2), size(ids, 3)
    spec = PyJLChar.CharLSTM.ModelSpec(; name = "ptb", cell = :lstm, graph = :unrolled, layers, hidden, embed, n_class,
                                       dropout = 0.0)
    model = mx.FeedForward(PyJLChar.CharLSTM.LSTM(spec, seq_len); context = mx.cpu())
    data_shapes = PyJLChar.CharLSTM.lstm_data_shapes(spec, seq_len, batch_size)
    label_shapes = PyJLChar.CharLSTM.lstm_label_shapes(spec, seq_len, batch_size)
    mx.srand(seed)
    _, param_names, _ = mx.init_model(model, mx.UniformInitializer(init_scale); data_shapes..., label_shapes...)
    mx.save(init_path, model.arg_params)
    devices = mx.DeviceExecutors(model, data_shapes, label_shapes, param_names, batch_size)
    optimizer = mx.ADAM(lr = learning_rate, weight_decay = weight_decay, grad_clip = grad_clip)
    optimizer.rescale_grad = 1 / batch_size   # as fit sets it
    opt = mx.DeviceOptimizer(optimizer, devices, model, :local, nothing)
    batch = mx.DataBatch([mx.zeros(s) for s in last.(data_shapes)],
                         [mx.zeros(s) for s in last.(label_shapes)], batch_size)
    onehot = [[Base.zeros(Float32, n_class, batch_size) for t in 1:seq_len] for k in 1:pool]
    labels = [[Float32[ids[t + 1, i, k] for i in 1:batch_size] for t in 1:seq_len] for k in 1:pool]
    for k in 1:pool, t in 1:seq_len, i in 1:batch_size
        onehot[k][t][ids[t, i, k] + 1, i] = 1
    end
    BENCH[] = Bench(model, devices, opt, batch, onehot, labels, 1)
    mx.wait_all()
    return String[string(name) for name in param_names]
end

function step!(b::Bench)
    k = b.next
    b.next = k % length(b.onehot) + 1
    for t in eachindex(b.onehot[k])
        copy!(b.batch.data[t], b.onehot[k][t])
        copy!(b.batch.label[t], b.labels[k][t])
    end
    mx.load_inputs!(b.devices, b.devices.data_names, b.batch.data)
    mx.load_inputs!(b.devices, b.devices.label_names, b.batch.label)
    mx.train_batch!(b.devices, b.opt)
end

"Runs `steps` training steps; the seconds they took, until libmxnet is idle."
function run(steps::Integer)
    b = BENCH[]::Bench
    started = time_ns()
    for _ in 1:steps
        step!(b)
    end
    mx.wait_all()
    return (time_ns() - started) / 1e9
end

"The trained parameters by name (Julia arrays: numpy sees them in libmxnet's shape)."
function params()
    exec = first((BENCH[]::Bench).devices.execs)
    return Dict(string(name) => copy(exec.arg_dict[name]) for name in (BENCH[]::Bench).devices.param_names)
end

end # module

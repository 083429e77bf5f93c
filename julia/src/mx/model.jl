# FeedForward: a graph with its parameters, trained with `fit` and run with `predict`.
#
# Training binds one executor per device once; each batch is split along the batch dimension
# across the devices, their gradients are summed through a KVStore and pulled back, and every
# device applies the same optimizer step to its own copy of the weights.

"""
    FeedForward(arch::SymbolicNode; context=cpu())

A model: the graph `arch`, the devices to run it on (a Context or a vector of them for data
parallelism), and its parameters `arg_params` / `aux_params` (Dict{Symbol,NDArray} on cpu(),
filled by `init_model`, `fit`, or from `load_checkpoint`). After `fit`, `opt_states` holds
the optimizer's state per parameter (for `save_states`, to resume training exactly).
"""
mutable struct FeedForward
    arch::SymbolicNode
    ctx::Vector{Context}
    arg_params::Dict{Symbol,NDArray}
    aux_params::Dict{Symbol,NDArray}
    opt_states::Dict{Symbol,Any}
    training::Any   # the DeviceExecutors while `fit` runs, for callbacks (`sync_params!`, `score`)
end

function FeedForward(arch::SymbolicNode; context::Union{Context,AbstractVector{Context}} = cpu())
    contexts = context isa Context ? [context] : collect(Context, context)
    isempty(contexts) && throw(MXError("FeedForward needs at least one context"))
    foreach(check_available, contexts)
    return FeedForward(arch, contexts, Dict{Symbol,NDArray}(), Dict{Symbol,NDArray}(), Dict{Symbol,Any}(), nothing)
end

Base.show(io::IO, model::FeedForward) =
    print(io, "FeedForward(", join(list_outputs(model.arch), ", "), " on ", join(model.ctx, ", "), ")")

"""
    save_checkpoint(model, prefix, epoch) -> params filename

Saves the model's graph and parameters (see `save_checkpoint(sym, ...)`).
"""
save_checkpoint(model::FeedForward, prefix::AbstractString, epoch::Integer) =
    save_checkpoint(model.arch, prefix, epoch, model.arg_params, model.aux_params)

"""
    init_model(model, initializer; overwrite=false, input_name => julia_size...)
        -> (arg_names, param_names, aux_names)

Infers every size from the input sizes and initializes the parameters (the arguments that
are not inputs) and auxiliary states on cpu(). Parameters the model already has (e.g. from a
checkpoint) are kept unless `overwrite`; their sizes must fit.
"""
function init_model(model::FeedForward, initializer::AbstractInitializer; overwrite::Bool = false,
                    input_shapes...)
    inferred = infer_shape(model.arch; input_shapes...)
    inferred === nothing &&
        throw(MXError("init_model: the input sizes $(Dict(input_shapes)) do not determine all " *
                      "sizes of $(join(list_arguments(model.arch), ", "))"))
    arg_shapes, _, aux_shapes = inferred
    arg_names = list_arguments(model.arch)
    aux_names = list_auxiliary_states(model.arch)
    param_names = [name for name in arg_names if !haskey(input_shapes, name)]
    for (name, shape) in zip(arg_names, arg_shapes)
        name in param_names && init_param!(model.arg_params, initializer, name, shape, overwrite)
    end
    for (name, shape) in zip(aux_names, aux_shapes)
        init_param!(model.aux_params, initializer, name, shape, overwrite)
    end
    return arg_names, param_names, aux_names
end

function init_param!(params::Dict{Symbol,NDArray}, initializer, name::Symbol, shape, overwrite::Bool)
    if haskey(params, name) && !overwrite
        size(params[name]) == shape ||
            throw(MXError("parameter $name has size $(size(params[name])), the model needs $shape"))
    else
        params[name] = init(initializer, name, empty(shape))
    end
end

# ----- the devices' executors ------------------------------------------------------------------

# Samples 1:batch_size shared out as evenly as possible, one range per device.
function split_batch(batch_size::Integer, n_device::Integer)
    batch_size >= n_device ||
        throw(MXError("a batch of $batch_size cannot be split across $n_device devices"))
    sizes = [batch_size ÷ n_device + (k <= batch_size % n_device) for k in 1:n_device]
    stops = cumsum(sizes)
    return [stop - size + 1:stop for (size, stop) in zip(sizes, stops)]
end

"The executors of one model on its devices, bound once and reused for every batch."
struct DeviceExecutors
    execs::Vector{Executor}
    slices::Vector{UnitRange{Int}}      # each device's samples of a batch
    data_names::Vector{Symbol}
    label_names::Vector{Symbol}
    param_names::Vector{Symbol}
end

function DeviceExecutors(model::FeedForward, data_shapes, label_shapes, param_names, batch_size)
    slices = split_batch(batch_size, length(model.ctx))
    grad_req = Dict(name => :write for name in param_names)
    execs = map(zip(model.ctx, slices)) do (ctx, samples)
        shapes = Dict(name => (shape[1:end-1]..., length(samples)) for (name, shape) in [data_shapes; label_shapes])
        simple_bind(model.arch, ctx; grad_req = grad_req, shapes...)
    end
    devices = DeviceExecutors(execs, slices, first.(data_shapes), first.(label_shapes), param_names)
    copy_params_to!(devices, model)
    return devices
end

function copy_params_to!(devices::DeviceExecutors, model::FeedForward)
    for exec in devices.execs
        for name in devices.param_names
            copy!(exec.arg_dict[name], model.arg_params[name])
        end
        for (name, arr) in exec.aux_dict
            copy!(arr, model.aux_params[name])
        end
    end
end

# Every device holds the same weights: the first one's are the model's.
function copy_params_from!(model::FeedForward, devices::DeviceExecutors)
    exec = first(devices.execs)
    for name in devices.param_names
        copy!(model.arg_params[name], exec.arg_dict[name])
    end
    for (name, arr) in exec.aux_dict
        copy!(model.aux_params[name], arr)
    end
end

# Copies each input's share of the batch into each device's bound array.
function load_inputs!(devices::DeviceExecutors, names::Vector{Symbol}, arrays::AbstractVector{NDArray})
    single = length(devices.execs) == 1
    for (name, arr) in zip(names, arrays), (exec, samples) in zip(devices.execs, devices.slices)
        copy!(exec.arg_dict[name], single ? arr : slice(arr, samples))
    end
end

function load_batch!(devices::DeviceExecutors, provider::AbstractDataProvider, batch::AbstractDataBatch)
    load_inputs!(devices, devices.data_names, get_data(provider, batch))
    load_inputs!(devices, devices.label_names, get_label(provider, batch))
end

# Adds each device's outputs to the metric, leaving out the padding of a short last batch.
function update_metric!(metric::AbstractEvalMetric, devices::DeviceExecutors, n_real::Integer)
    for (exec, samples) in zip(devices.execs, devices.slices)
        n = clamp(n_real - first(samples) + 1, 0, length(samples))
        n == 0 && continue
        labels = NDArray[exec.arg_dict[name] for name in devices.label_names]
        outputs = exec.outputs
        if n < length(samples)
            labels, outputs = [slice(a, 1:n) for a in labels], [slice(a, 1:n) for a in outputs]
        end
        update!(metric, labels, outputs)
    end
end

# ----- training --------------------------------------------------------------------------------

"""
The optimizer's side of training: one state per parameter per device, and the gradient sum.
In a `dist_async` job the servers hold the optimizer (`on_servers`): each worker pushes its
gradients and pulls the weights back.
"""
struct DeviceOptimizer
    optimizer::AbstractOptimizer
    states::Vector{Dict{Symbol,Any}}                 # per device, by parameter
    kvstore::Union{Nothing,KVStore}                  # sums gradients of several devices or workers
    grads::Vector{Pair{Int,Vector{NDArray}}}         # each parameter's gradient on every device, by key
    weights::Vector{Pair{Int,Vector{NDArray}}}       # and its weight
    on_servers::Bool
end

function DeviceOptimizer(optimizer, devices::DeviceExecutors, model::FeedForward, kvstore, states)
    execs, param_names = devices.execs, devices.param_names
    device_states = map(execs) do exec
        Dict{Symbol,Any}(name => create_state(optimizer, i, exec.arg_dict[name])
                         for (i, name) in enumerate(param_names))
    end
    if states !== nothing
        for name in param_names
            haskey(states, name) || throw(MXError("the optimizer states to resume from have none for $name"))
            foreach(s -> copy_state!(s[name], states[name]), device_states)
        end
    end
    # The same key for a parameter in every process of a job: its place among the sorted names.
    key = Dict(name => FIRST_PARAM_KEY + i - 1 for (i, name) in enumerate(Base.sort(param_names)))
    grads = [key[name] => NDArray[exec.grad_dict[name] for exec in execs] for name in param_names]
    weights = [key[name] => NDArray[exec.arg_dict[name] for exec in execs] for name in param_names]
    kv, on_servers = nothing, false
    if length(execs) > 1 || kvstore isa KVStore
        kv = kvstore isa KVStore ? kvstore : KVStore(kvstore)
        if is_distributed(get_type(kv))
            on_servers = !is_sync(kv)
            on_servers && set_optimizer!(kv, optimizer)
            join_job!(kv, Dict(name => model.arg_params[name] for name in param_names))
        end
        foreach(name -> init!(kv, key[name], model.arg_params[name]), Base.sort(param_names))
        # In a job, worker 0's values are the ones stored: every worker starts from them.
        is_distributed(get_type(kv)) && foreach(((key, arrays),) -> pull!(kv, key, arrays), weights)
    end
    return DeviceOptimizer(optimizer, device_states, kv, grads, weights, on_servers)
end

function train_batch!(devices::DeviceExecutors, opt::DeviceOptimizer)
    for exec in devices.execs
        forward(exec; is_train = true)
        backward(exec)
    end
    if opt.kvstore !== nothing
        for ((key, grads), (_, weights)) in zip(opt.grads, opt.weights)
            push!(opt.kvstore, key, grads)
            pull!(opt.kvstore, key, opt.on_servers ? weights : grads)
        end
    end
    opt.on_servers && return
    for (exec, states) in zip(devices.execs, opt.states)
        for (i, name) in enumerate(devices.param_names)
            update!(opt.optimizer, i, exec.arg_dict[name], exec.grad_dict[name], states[name])
        end
    end
end

function log_metric(metric::Vector{Tuple{Symbol,Float64}})
    for (name, value) in metric
        @info @sprintf("%s = %.4f", name, value)
    end
end

function run_callbacks(callbacks, ::Type{AbstractBatchCallback}, state::OptimizationState)
    for cb in callbacks
        cb isa AbstractBatchCallback && cb(state)
    end
end

function run_callbacks(callbacks, ::Type{AbstractEpochCallback}, model, state::OptimizationState, metric)
    for cb in callbacks
        cb isa AbstractEpochCallback && cb(model, state, metric)
    end
end

function check_same_inputs(data::AbstractDataProvider, eval_data::AbstractDataProvider)
    provide_data(eval_data) == provide_data(data) && provide_label(eval_data) == provide_label(data) ||
        throw(MXError("eval_data must provide the same inputs as the training data (the same " *
                      "names and sizes, batch size included): it runs on the training executors"))
end

"""
    fit(model, optimizer, data; n_epoch, initializer=UniformInitializer(0.01), eval_data=nothing,
        eval_metric=Accuracy(), callbacks=[], kvstore=:local, begin_epoch=1, states=nothing)

Trains `model` on the batches of `data` for epochs `begin_epoch:n_epoch`, logging a summary
per epoch (`== Epoch 001/021 ==========`, `## Training summary`, `<metric> = 1.2345`,
`time = 1.2345 seconds`, and `## Validation summary` with `eval_data`).

Parameters are the graph's arguments that `data` does not provide (as data or label); the
model's existing ones are kept (to resume from a checkpoint), the rest initialized.
`optimizer.rescale_grad` is set to 1/(batch_size × workers). With several devices their
gradients are summed through a KVStore of type `kvstore` (or the KVStore given); a distributed
KVStore (`dist_sync`) also sums those of every worker of the job, each of which then takes the
same step, as one process would on all their batches together. With `dist_async` the servers
take each worker's step as it arrives, and the workers pull the weights. `states` (from `load_states`)
restores the optimizer's state, so that a resumed run continues exactly.

Batch callbacks run after each batch, epoch callbacks after each epoch (and before the first
when `begin_epoch == 1`), with an `OptimizationState`. When anything throws (a callback
stopping training, Ctrl-C), `model.arg_params`, `aux_params` and `opt_states` are left as
after the last complete batch, and the exception propagates.
"""
function fit(model::FeedForward, optimizer::AbstractOptimizer, data::AbstractDataProvider;
             n_epoch::Integer, initializer::AbstractInitializer = UniformInitializer(0.01),
             eval_data::Union{Nothing,AbstractDataProvider} = nothing,
             eval_metric::AbstractEvalMetric = Accuracy(), callbacks::AbstractVector = AbstractCallback[],
             kvstore::Union{Symbol,KVStore} = :local, begin_epoch::Integer = 1, states = nothing)
    eval_data === nothing || check_same_inputs(data, eval_data)
    batch_size = get_batch_size(data)
    data_shapes, label_shapes = provide_data(data), provide_label(data)
    _, param_names, _ = init_model(model, initializer; data_shapes..., label_shapes...)
    devices = DeviceExecutors(model, data_shapes, label_shapes, param_names, batch_size)
    # A dist_sync step sums the gradients of every worker's batch; a dist_async one is one worker's.
    workers = kvstore isa KVStore && is_sync(kvstore) ? group_size(kvstore) : 1
    optimizer.rescale_grad = 1 / (batch_size * workers)
    opt = DeviceOptimizer(optimizer, devices, model, kvstore, states)
    model.opt_states = first(opt.states)
    model.training = devices

    op_state = OptimizationState(batch_size)
    op_state.curr_epoch = begin_epoch - 1
    begin_epoch == 1 && run_callbacks(callbacks, AbstractEpochCallback, model, op_state, Tuple{Symbol,Float64}[])
    try
        for epoch in begin_epoch:n_epoch
            op_state.curr_epoch, op_state.curr_batch = epoch, 0
            started = time()
            reset!(eval_metric)
            run_callbacks(callbacks, AbstractBatchCallback, op_state)
            for batch in eachbatch(data)
                load_batch!(devices, data, batch)
                train_batch!(devices, opt)
                update_metric!(eval_metric, devices, count_samples(data, batch))
                op_state.curr_batch += 1
                op_state.curr_iter += 1
                run_callbacks(callbacks, AbstractBatchCallback, op_state)
            end
            copy_params_from!(model, devices)
            train_metric = get(eval_metric)
            @info @sprintf("== Epoch %03d/%03d ==========", epoch, n_epoch)
            @info "## Training summary"
            log_metric(train_metric)
            @info @sprintf("time = %.4f seconds", time() - started)
            if eval_data !== nothing
                evaluate!(eval_metric, devices, eval_data)
                @info "## Validation summary"
                log_metric(get(eval_metric))
            end
            run_callbacks(callbacks, AbstractEpochCallback, model, op_state, train_metric)
        end
    finally
        copy_params_from!(model, devices)
        model.training = nothing
    end
    return model
end

"""
    sync_params!(model)

From a callback while `fit` runs: copies the weights being trained (as after the last complete
batch) into `model.arg_params` and `aux_params`, e.g. to save them mid-epoch.
"""
function sync_params!(model::FeedForward)
    model.training === nothing && throw(MXError("sync_params! is for callbacks while fit runs"))
    copy_params_from!(model, model.training)
    return model
end

"""
    score!(metric, model, provider)

From a callback while `fit` runs: `metric` over one pass of `provider` (which provides what
the training data does) on the weights being trained, without training them.
"""
function score!(metric::AbstractEvalMetric, model::FeedForward, provider::AbstractDataProvider)
    model.training === nothing && throw(MXError("score! is for callbacks while fit runs"))
    return evaluate!(metric, model.training, provider)
end

# The metric over one pass of `provider`, run on the training executors without training.
function evaluate!(metric::AbstractEvalMetric, devices::DeviceExecutors, provider::AbstractDataProvider)
    reset!(metric)
    for batch in eachbatch(provider)
        load_batch!(devices, provider, batch)
        foreach(exec -> forward(exec; is_train = false), devices.execs)
        update_metric!(metric, devices, count_samples(provider, batch))
    end
    return metric
end

# ----- prediction ------------------------------------------------------------------------------

"""
    predict(model, data) -> Array or Vector{Array}

Runs the model on every batch of `data` (on its first device) and returns each output for
all real samples, concatenated along the last (batch) dimension: one Julia array when the
graph has one output, else a vector of them.
"""
function predict(model::FeedForward, data::AbstractDataProvider)
    isempty(model.arg_params) &&
        throw(MXError("predict: the model has no parameters yet: fit it or load a checkpoint"))
    shapes = Dict([provide_data(data); provide_label(data)])
    exec = simple_bind(model.arch, first(model.ctx); grad_req = :null, shapes...)
    for (name, arr) in exec.arg_dict
        haskey(model.arg_params, name) && !haskey(shapes, name) && copy!(arr, model.arg_params[name])
    end
    for (name, arr) in exec.aux_dict
        copy!(arr, model.aux_params[name])
    end
    chunks = [Array{Float32}[] for _ in exec.outputs]
    data_names = first.(provide_data(data))
    for batch in eachbatch(data)
        for (name, arr) in zip(data_names, get_data(data, batch))
            copy!(exec.arg_dict[name], arr)
        end
        forward(exec; is_train = false)
        n = count_samples(data, batch)
        for (out, chunk) in zip(exec.outputs, chunks)
            all_samples = copy(out)
            push!(chunk, copy(selectdim(all_samples, ndims(all_samples), 1:n)))
        end
    end
    results = [cat(chunk...; dims = ndims(first(chunk))) for chunk in chunks]
    return length(results) == 1 ? only(results) : results
end

# A training run as the `pyjlchar train` command asks for it: the corpus, the vocabulary, the
# unrolled LSTM, mx.fit with the NLL metric, a checkpoint per epoch, and resuming.

# Settings a resumed run must share with the saved one (the model comes from the meta file).
const RUN_KEYS = ("corpus", "train_ratio", "seq_len", "batch_size", "optimizer", "learning_rate",
                  "weight_decay", "grad_clip", "init_scale", "seed")

states_path(prefix, epoch) = string(prefix, "-", lpad(epoch, 4, "0"), ".states")

# The settings recorded in the meta file: [data] and [train] of Python's config, flat.
run_settings(settings) = merge(Dict{String,Any}(settings["data"]), Dict{String,Any}(settings["train"]))

function make_optimizer(train::AbstractDict)
    kw = (lr = train["learning_rate"], weight_decay = train["weight_decay"], grad_clip = train["grad_clip"])
    return train["optimizer"] == "adam" ? mx.ADAM(; kw...) : mx.SGD(; momentum = 0.9, kw...)
end

"""
    ResumedData(provider, skip)

`provider`, whose first pass starts after `skip` batches: the batches an interrupted epoch
had already trained on.
"""
mutable struct ResumedData <: CharSeqPass
    inner::CharSeqProvider
    skip::Int
end
function mx.eachbatch(p::ResumedData)
    skip, p.skip = p.skip, 0
    return Iterators.drop(mx.eachbatch(p.inner), skip)
end

"""
    train_model(settings, corpus_file, contexts; resume=false) -> Dict

Trains per `settings` (pyjlchar.config's nested dict) on the UTF-8 text in `corpus_file`,
on `contexts` (["cpu", 0]-style pairs; several train data-parallel). Saves `<name>-symbol.json`,
`<name>-NNNN.params`, `<name>-NNNN.states` and `<name>-meta.json` in the checkpoint folder
after every epoch. On Ctrl-C it saves the epoch in progress, marked partial in the meta file,
which `resume=true` continues from the next batch. Returns the meta (history included).
"""
function train_model(settings::AbstractDict, corpus_file::AbstractString, contexts::AbstractVector;
                     resume::Bool = false)
    model, train = settings["model"], settings["train"]
    ctxs = [as_context(c) for c in contexts]
    prefix = joinpath(train["checkpoint_dir"], model["name"])
    text = read(corpus_file, String)
    optimizer = make_optimizer(train)
    if resume
        meta, spec, arg_params, states, begin_epoch, skip = resume_point(prefix, settings, optimizer)
        vocab = meta_vocab(meta)
        meta["train"]["epochs"] = train["epochs"]
    else
        isfile(meta_path(prefix)) &&
            throw(UserError("$(meta_path(prefix)) already holds a run: add --resume to continue it, " *
                            "or choose another checkpoint_dir or model name to start afresh"))
        vocab = build_vocabulary(text)
        spec = ModelSpec(Symbol(model["name"]), model["layers"], model["hidden"], model["embed"],
                         n_class(vocab), model["dropout"]; cell = Symbol(model["cell"]))
        meta = new_meta(vocab, spec, run_settings(settings))
        mx.srand(train["seed"])
        arg_params = initial_params(spec, mx.UniformInitializer(train["init_scale"]))
        states, begin_epoch, skip = nothing, 1, 0
    end
    begin_epoch > train["epochs"] &&
        throw(UserError("the run at $prefix has already trained $(begin_epoch - 1) epochs: " *
                        "ask for more with --epochs to continue it"))

    train_text, val_text = split_text(text, settings["data"]["train_ratio"])
    B, T = train["batch_size"], train["seq_len"]
    provider(part_text, part) = CharSeqProvider(part_text, B, T, vocab, spec; part = part)
    train_data = ResumedData(provider(train_text, "training part of the corpus"), skip)
    val_data = provider(val_text, "validation part of the corpus (raise train_ratio's complement)")

    ff = mx.FeedForward(LSTM(spec, T); context = ctxs)
    ff.arg_params = arg_params
    nll = NLL()
    progress = TrainingProgress(train["epochs"], n_batches(train_data.inner), B * T, train["seed"], skip)
    callbacks = [mx.every_n_batch(state -> report_batch!(progress, state, nll), 1; call_on_0 = true),
                 mx.speedometer(),
                 mx.every_n_epoch((model, state, metric) -> save_epoch!(meta, prefix, model, optimizer, state,
                                                                        metric, nll, progress), 1)]
    @info "Training $(spec.n_layer)x$(spec.dim_hidden) LSTM ($(spec.cell) cell) on $(length(text)) characters " *
          "($(n_class(vocab)) classes) on $(join(string.(ctxs), ", "))"
    try
        mx.fit(ff, optimizer, train_data; n_epoch = train["epochs"], begin_epoch = begin_epoch, eval_data = val_data,
               eval_metric = nll, callbacks = callbacks, states = states)
    catch e
        e isa InterruptException && save_interrupted!(meta, prefix, ff, optimizer, progress)
        rethrow()
    end
    return meta
end

# Where `--resume` starts: after the last saved epoch, or inside an interrupted one. The run
# goes on with the cell `settings` asks for, its weights and optimizer states converted.
function resume_point(prefix, settings, optimizer)
    isfile(meta_path(prefix)) ||
        throw(UserError("there is no run to resume at $prefix ($(meta_path(prefix)) is missing): " *
                        "train without --resume first, or point --checkpoint-dir at the run"))
    meta = read_meta(meta_path(prefix))
    saved, now = meta["train"], run_settings(settings)
    for key in RUN_KEYS
        get(saved, key, nothing) == now[key] ||
            throw(UserError("--resume continues the saved run, which has $key = $(repr(get(saved, key, nothing))), " *
                            "not $(repr(now[key])): drop that setting or start a new run elsewhere"))
    end
    spec = model_spec(meta)
    for (key, value) in (("layers", spec.n_layer), ("hidden", spec.dim_hidden), ("embed", spec.dim_embed),
                         ("dropout", spec.dropout))
        settings["model"][key] == value ||
            throw(UserError("--resume continues the saved run, whose model has $key = $value, " *
                            "not $(settings["model"][key]): use the saved run's settings"))
    end
    partial = get(meta, "partial", nothing)
    epoch, skip = partial === nothing ? (meta["epoch"], 0) : (partial["epoch"], partial["batches_done"])
    epoch == 0 && throw(UserError("the run at $prefix saved no epoch yet: start it again without --resume"))
    cell = Symbol(settings["model"]["cell"])
    _, run_spec, arg_params = load_trained(mx.checkpoint_params_file(prefix, epoch); cell = cell)
    states_file = states_path(prefix, epoch)
    isfile(states_file) ||
        throw(UserError("$states_file is missing, so the optimizer cannot continue where it " *
                        "stopped: restore it, or start a new run"))
    states = mx.load_states(states_file, optimizer; convert = arrays -> convert_cell(arrays, spec, cell))
    if cell != spec.cell
        @info "Converting the run from the $(spec.cell) cell to the $cell cell"
        meta["model"]["cell"] = String(cell)
    end
    begin_epoch = partial === nothing ? epoch + 1 : epoch
    @info partial === nothing ? "Resuming after epoch $epoch" :
          "Resuming epoch $epoch after batch $skip"
    return meta, run_spec, arg_params, states, begin_epoch, skip
end


"""
    initial_params(spec, initializer) -> Dict

Fresh weights, drawn for the unrolled cells and converted to `spec`'s cell, so that both
cells start from the same weights for the same seed.
"""
function initial_params(spec::ModelSpec, initializer::mx.AbstractInitializer)
    unrolled = with_cell(spec, :lstm)
    params = Dict{Symbol,mx.NDArray}(name => mx.init(initializer, name, mx.empty(shape))
                                     for (name, shape) in parameter_shapes(unrolled))
    return convert_cell(params, unrolled, spec.cell)
end

"What the live progress line and the interrupt handler need to know."
mutable struct TrainingProgress
    n_epoch::Int
    n_batch::Int
    chars_per_batch::Int
    seed::Int
    skip::Int           # batches of the first epoch trained before a resume
    epoch::Int
    batch::Int
    epoch_started::Float64
end
TrainingProgress(n_epoch, n_batch, chars_per_batch, seed, skip) =
    TrainingProgress(n_epoch, n_batch, chars_per_batch, seed, skip, 0, 0, time())

function report_batch!(p::TrainingProgress, state, nll::NLL)
    if state.curr_batch == 0
        p.epoch, p.batch, p.epoch_started = state.curr_epoch, p.skip, time()
        p.skip = 0
        # Reseeding per epoch makes dropout repeat the same way after a resume.
        mx.srand(p.seed + state.curr_epoch)
        return Bridge.poll()
    end
    p.batch += 1
    elapsed = time() - p.epoch_started
    rate = state.curr_batch * p.chars_per_batch / max(elapsed, 1e-9)
    left = ((p.n_batch - p.batch) + (p.n_epoch - p.epoch) * p.n_batch) * p.chars_per_batch / max(rate, 1e-9)
    Bridge.emit("progress"; epoch = p.epoch, n_epoch = p.n_epoch, batch = p.batch, n_batch = p.n_batch,
                chars_per_s = rate, nll = get(nll)[1][2], eta_s = left)
end

function save_states!(prefix, epoch, model, optimizer)
    mx.write_atomically(tmp -> mx.save_states(tmp, optimizer, model.opt_states), states_path(prefix, epoch))
end

# After each epoch: params, optimizer states, then the meta file that points at them.
function save_epoch!(meta, prefix, model, optimizer, state, train_metric, nll::NLL, p::TrainingProgress)
    epoch = state.curr_epoch
    epoch == 0 && return
    mx.save_checkpoint(model, prefix, epoch)
    save_states!(prefix, epoch, model, optimizer)
    delete!(meta, "partial")
    record_epoch!(meta, epoch; train_nll = train_metric[1][2], val_nll = get(nll)[1][2],
                  seconds = time() - p.epoch_started)
    write_meta(prefix, meta)
end

# On Ctrl-C: the weights after the last complete batch, as the (partial) epoch in progress.
function save_interrupted!(meta, prefix, model, optimizer, p::TrainingProgress)
    (p.epoch == 0 || isempty(model.arg_params)) && return
    mx.save_checkpoint(model, prefix, p.epoch)
    save_states!(prefix, p.epoch, model, optimizer)
    meta["partial"] = Dict{String,Any}("epoch" => p.epoch, "batches_done" => p.batch)
    write_meta(prefix, meta)
    @info "Interrupted in epoch $(p.epoch) after batch $(p.batch); saved it to resume from there"
end

# Training a run: the encoded corpus, the vocabulary, a checkpoint per epoch (train/run.jl), a
# checkpoint on Ctrl-C, resuming, and a parameter-server job's workers.

"""
    train_model(model, data, train, policy, compute, corpus_files, corpus_cache; resume=false,
                allow_new_text=false, hooks=NO_HOOKS) -> RunMeta

Trains the char-lstm of the [model] section `model` (a Dict: its `n_class` comes from the
vocabulary of the UTF-8 text in `corpus_files`, encoded into the cache folder `corpus_cache`
on first use, then read from there) on `data` (DataSettings) with the course `train`
(TrainSettings), steered by `policy` (RunPolicy: epochs, the checkpoint folder, intervals),
on the devices and kvstore of `compute` (ComputeSettings; several devices train
data-parallel), holding the run's lock. Saves `<name>-symbol.json`, `<name>-NNNN.params`,
`<name>-NNNN.states` and `<name>-meta.json` in the checkpoint folder after every epoch, the
meta last, so that it only ever names complete files. When `hooks.poll` stops it (Ctrl-C,
SIGTERM) it saves the epoch in progress, marked partial in the meta file, which `resume`
continues from the next batch, with the graph `model` asks for; a resumed run must train on
the same text unless `allow_new_text` (which still refuses characters outside its
vocabulary). Reports each checkpoint saved as a "checkpoint" event. Returns the run's meta.

A distributed kvstore (`dist_sync`, `dist_device_sync`, `dist_async`) makes this process a
worker of a parameter-server job (its DMLC_* environment): it joins the job, trains on its
shard of the batches, and only worker 0 writes (and locks) the run's files; `compute`'s
gradient compression compresses what the workers send. With `dist_async` the servers hold
the optimizer's state, which a checkpoint does not keep.
"""
function train_model(model::AbstractDict, data::DataSettings, train::TrainSettings, policy::RunPolicy,
                     compute::ComputeSettings, corpus_files::AbstractVector{<:AbstractString},
                     corpus_cache::AbstractString; resume::Bool = false, allow_new_text::Bool = false,
                     hooks::Hooks = NO_HOOKS)
    kvstore = compute.kvstore
    compress = compute.gradient_compression != :none
    mx.is_distributed(kvstore) || !compress ||
        throw(UserError("gradient_compression $(compute.gradient_compression) compresses what the workers of a " *
                        "parameter-server job send, and kvstore $kvstore has none: use a dist_* kvstore, or " *
                        "leave gradient_compression at none"))
    contexts = devices(compute.context)
    # Joining a job waits until every node of it has started.
    store = mx.is_distributed(kvstore) ? mx.KVStore(kvstore) : kvstore
    compress && mx.set_gradient_compression!(store, String(compute.gradient_compression);
                                             threshold = compute.compression_threshold)
    Shard(store).rank == 0 && check_writable(policy.checkpoint_dir)
    prefix = joinpath(policy.checkpoint_dir, model["name"])
    go() = train_locked(model, data, train, policy, prefix, corpus_files, corpus_cache; contexts = contexts,
                        store = store, resume = resume, allow_new_text = allow_new_text, hooks = hooks)
    meta = try
        Shard(store).rank == 0 ? with_run_lock(go, prefix) : go()
    catch e
        # A job is stopped as a whole (a dist_sync one after a vote), so every worker still
        # reaches the close. After a failure it is left open: the failed worker never would.
        e isa InterruptException && store isa mx.KVStore && mx.close!(store)
        rethrow()
    end
    # A distributed store's close is the job's last barrier.
    store isa mx.KVStore && mx.close!(store)
    return meta
end

"Where a run begins: its meta, model, weights, optimizer states, first epoch and batches to skip."
struct StartPoint
    meta::RunMeta
    arg_params::AbstractDict
    states::Any
    begin_epoch::Int
    skip::Int
end

function train_locked(model, data, train, policy, prefix, corpus_files, corpus_cache; contexts, store, resume,
                      allow_new_text, hooks)
    shard = Shard(store)
    writes = shard.rank == 0
    writes && mx.clear_stale_temps(dirname(prefix))
    hooks.poll()
    corpus = encoded_corpus(corpus_files, corpus_cache; hooks = hooks)
    hooks.poll()
    # Each worker updates once per round of the job's batches: a schedule spans epochs × rounds.
    n_train = train_size(length(corpus.ids), data.train_ratio)
    rounds = n_batches(n_train, train.batch_size, train.seq_len) ÷ shard.workers
    optimizer = make_optimizer(train, policy.epochs * rounds)
    if resume && nothing_saved(prefix)
        @info "The run at $prefix saved nothing yet (it was stopped before its first checkpoint): starting it"
        resume = false
    end
    start = resume ? resume_point(prefix, model, data, train, optimizer, corpus, allow_new_text) :
                     fresh_start(prefix, model, data, train, policy, corpus, length(contexts), writes)
    meta = start.meta
    meta.epochs = policy.epochs
    start.begin_epoch > policy.epochs &&
        throw(UserError("the run at $prefix has already trained $(start.begin_epoch - 1) epochs: " *
                        "ask for more with --epochs to continue it"))
    spec = meta.model
    batches = lstm_data(spec, data, train, meta.vocab, corpus)
    writes && write_meta(prefix, meta)   # from now on the folder always holds a run that loads

    ff = mx.FeedForward(LSTM(spec, train.seq_len); context = contexts)
    ff.arg_params = start.arg_params
    run_chars = ((start.begin_epoch - 1) * n_batches(batches[1]) + start.skip) * train.batch_size * train.seq_len
    run = TrainingRun(meta, prefix, policy, writes, ff, optimizer, rounds, batches[2]; run_chars = run_chars,
                      hooks = hooks)
    @info "Training $(describe(spec)), $(parameter_count(spec)) parameters, on $(length(corpus.ids)) characters " *
          "($(n_class(meta.vocab)) classes) on $(join(string.(contexts), ", "))"
    try
        fit_lstm!(ff, optimizer, train, batches; n_epoch = policy.epochs, begin_epoch = start.begin_epoch,
                  skip = start.skip, states = start.states, nll = run.nll, callbacks = [mx.speedometer()],
                  on_batch = (m, p) -> at_batch!(run, m, p), on_epoch = (m, p, metric) -> at_epoch_end!(run, m, p, metric),
                  on_interrupt = p -> on_stop!(run, p), kvstore = store, hooks = hooks)
    catch e
        e isa EarlyStop && return stopped_early!(run, e)
        e isa TrainingDiverged || rethrow()
        throw(UserError(diverged_message(e, meta, prefix, train)))
    end
    return meta
end

# A new run: the corpus's own vocabulary, weights drawn from the seed.
function fresh_start(prefix, model, data, train, policy, corpus, n_devices, writes)
    writes && refuse_to_overwrite(prefix)
    vocab = corpus.vocab
    spec = from_section(ModelSpec, model; n_class = n_class(vocab))
    check_memory(spec, train, n_devices)   # before the weights are drawn
    meta = RunMeta(vocab, spec, data, train, policy.epochs)
    meta.corpus_identity = corpus.identity
    mx.srand(train.seed)
    arg_params = initial_params(spec, mx.UniformInitializer(train.init_scale))
    writes && rm(log_path(prefix); force = true)   # a log left by a run that saved nothing
    return StartPoint(meta, arg_params, nothing, 1, 0)
end

function diverged_message(e::TrainingDiverged, meta::RunMeta, prefix, train::TrainSettings)
    where = e.batch < 0 ? "its validation" : "batch $(e.batch)"
    kept = meta.epoch == 0 ? "no epoch was saved before" :
           "the last good checkpoint, $(mx.checkpoint_params_file(prefix, meta.epoch)), is kept"
    return "training diverged in epoch $(e.epoch) at $where (the NLL became $(e.nll)): nothing of that " *
           "epoch was saved and $kept; lower learning_rate (now $(train.learning_rate)) or set grad_clip"
end

# Whether the run at `prefix` was started but saved no checkpoint (its meta is written first).
function nothing_saved(prefix)
    isfile(meta_path(prefix)) || return false
    meta = read_meta(meta_path(prefix))
    return meta.epoch == 0 && meta.partial === nothing
end

# A run that saved nothing may be started again; anything more is the user's work.
function refuse_to_overwrite(prefix)
    isfile(meta_path(prefix)) && !nothing_saved(prefix) &&
        throw(UserError("$(meta_path(prefix)) already holds a run: add --resume to continue it, " *
                        "or choose another checkpoint_dir or model name to start afresh"))
end

# Where `--resume` starts: after the last saved epoch, or inside an interrupted one. The run
# goes on with the graph `model` asks for, its weights and optimizer states converted, on `corpus`.
function resume_point(prefix, model::AbstractDict, data::DataSettings, train::TrainSettings, optimizer, corpus,
                      allow_new_text)
    isfile(meta_path(prefix)) ||
        throw(UserError("there is no run to resume at $prefix ($(meta_path(prefix)) is missing): " *
                        "train without --resume first, or point --checkpoint-dir at the run"))
    meta = read_meta(meta_path(prefix))
    for (mine, saved) in ((data, meta.data), (train, meta.train))
        different = differing_setting(mine, saved)
        different === nothing ||
            throw(UserError("--resume continues the saved run, which has $(different[1]) = " *
                            "$(repr(section_value(different[2]))), not $(repr(section_value(different[3]))): " *
                            "drop that setting or start a new run elsewhere"))
    end
    for key in (:cell, :layers, :hidden, :embed, :dropout)
        saved = getfield(meta.model, key)
        section_value(saved) == model[String(key)] ||
            throw(UserError("--resume continues the saved run, whose model has $key = $(repr(section_value(saved))), " *
                            "not $(repr(model[String(key)])): use the saved run's settings"))
    end
    meta.corpus_identity = resumed_identity(meta.corpus_identity, corpus, meta.vocab, allow_new_text)
    partial = meta.partial
    epoch, skip = partial === nothing ? (meta.epoch, 0) : (partial.epoch, partial.batches_done)
    graph = Symbol(model["graph"])
    # The file's own graph (an earlier epoch may have been trained with the other one).
    params_file, states_file = checkpoint_files(partial === nothing ? epoch_stem(prefix, epoch) :
                                                partial_stem(meta, prefix))
    _, saved_spec, saved_params = load_trained(params_file)
    isfile(states_file) ||
        throw(UserError("$states_file is missing, so the optimizer cannot continue where it " *
                        "stopped: restore it, or start a new run"))
    states = load_states(states_file, optimizer, arrays -> convert_graph(arrays, saved_spec, graph))
    if graph != saved_spec.graph
        @info "Converting the run from the $(saved_spec.graph) graph to the $graph graph"
    end
    meta.model = with_graph(meta.model, graph)
    meta.stopped_early = nothing   # it trains on, with whatever patience it has now
    @info partial === nothing ? "Resuming after epoch $epoch" : "Resuming epoch $epoch after batch $skip"
    return StartPoint(meta, convert_graph(saved_params, saved_spec, graph), states,
                      partial === nothing ? epoch + 1 : epoch, skip)
end

section_value(v) = v isa Symbol ? String(v) : v

# The optimizer's saved state, converted to the graph that goes on; a damaged file is the user's to fix.
function load_states(path, optimizer, convert)
    try
        return mx.load_states(path, optimizer; convert = convert)
    catch e
        e isa mx.MXError || rethrow()
        throw(UserError("the optimizer state file $path is corrupt, truncated or not pyjlchar's " *
                        "($(first(split(e.msg, '\n')))): restore it, or start a new run"))
    end
end

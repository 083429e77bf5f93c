# Training the char-lstm: the encoded corpus, the vocabulary, mx.fit with the NLL metric and
# progress after every batch (`fit_lstm!`, which `bench_train` shares), and for a run
# (`train_model`) a checkpoint per epoch, a checkpoint on Ctrl-C, and resuming.

states_path(prefix, epoch) = last(checkpoint_files(epoch_stem(prefix, epoch)))

"""
Which worker of how many this process is: worker `rank` (from 0) of a parameter-server job of
`workers` trains on batches rank+1, rank+1+workers, ... of each epoch. Every worker takes as
many batches (each step waits for all of them): the last batches of an epoch that do not
make a round for all the workers are left out.
"""
struct Shard
    rank::Int
    workers::Int
end
Shard(store::mx.KVStore) = Shard(mx.rank(store), mx.group_size(store))
Shard(::Symbol) = Shard(0, 1)   # this process alone

"""
    ResumedData(provider, skip, shard)

`shard`'s batches of `provider`, whose first pass starts after `skip` batches of the whole
epoch (those an interrupted epoch had already trained on), at once: the batches before are
not made.
"""
mutable struct ResumedData <: CharSeqPass
    inner::CharSeqProvider
    skip::Int
    shard::Shard
end
function mx.eachbatch(p::ResumedData)
    skip, p.skip = p.skip, 0
    batches = mx.eachbatch(p.inner)
    rounds = (length(batches) - skip) ÷ p.shard.workers
    last = skip + rounds * p.shard.workers
    # CharSeqBatches' state is the number of the next batch.
    return (iterate(batches, k)[1] for k in skip+1+p.shard.rank:p.shard.workers:last)
end

"""
The training NLL became NaN or infinite: the weights are ruined, so nothing of the epoch in
progress may be saved.
"""
struct TrainingDiverged <: Exception
    epoch::Int
    batch::Int
    nll::Float64
end

"What the progress events and the interrupt handler need to know."
mutable struct TrainingProgress
    n_epoch::Int
    n_batch::Int
    step::Int           # the epoch's batches one batch here stands for (the job's workers)
    chars_per_batch::Int
    seed::Int
    skip::Int           # batches of the first epoch trained before a resume
    epoch::Int
    batch::Int
    train_nll::Float64  # over this session's batches of the epoch
    epoch_started::Float64
end
TrainingProgress(n_epoch, n_batch, step, chars_per_batch, seed, skip) =
    TrainingProgress(n_epoch, n_batch, step, chars_per_batch, seed, skip, 0, 0, NaN, time())

function report_batch!(p::TrainingProgress, state, nll::NLL, hooks::Hooks)
    if state.curr_batch == 0
        p.epoch, p.batch, p.train_nll, p.epoch_started = state.curr_epoch, p.skip, NaN, time()
        p.skip = 0
        # Reseeding per epoch makes dropout repeat the same way after a resume.
        mx.srand(p.seed + state.curr_epoch)
        return hooks.poll()
    end
    p.batch = min(p.batch + p.step, p.n_batch)
    p.train_nll = get(nll)[1][2]
    isfinite(p.train_nll) || throw(TrainingDiverged(p.epoch, p.batch, p.train_nll))
    elapsed = time() - p.epoch_started
    rate = state.curr_batch * p.chars_per_batch / max(elapsed, 1e-9)
    left = ((p.n_batch - p.batch) + (p.n_epoch - p.epoch) * p.n_batch) * p.chars_per_batch / max(rate, 1e-9)
    hooks.progress("progress"; epoch = p.epoch, n_epoch = p.n_epoch, batch = p.batch, n_batch = p.n_batch,
                   chars_per_s = rate, nll = p.train_nll, eta_s = left)
    hooks.poll()
end

"""
    lstm_data(spec, settings, vocab, corpus) -> (training, validation)

The batches `LSTM(spec, settings.seq_len)` trains and validates on, read from the memory-mapped
ids of `corpus` (an EncodedCorpus) as classes of `vocab`: its first `train_size` characters
train, the rest validate (a UserError when a part is too short for one batch).
"""
function lstm_data(spec::ModelSpec, settings::TrainSettings, vocab::Vocabulary, corpus::EncodedCorpus)
    classes = class_map(corpus.vocab, vocab)
    n = length(corpus.ids)
    n_train = train_size(n, settings.train_ratio)
    provider(range, part) = CharSeqProvider(view(corpus.ids, range), classes, settings.batch_size,
                                            settings.seq_len, spec; part = part)
    return provider(1:n_train, "training part of the corpus"),
           provider(n_train+1:n, "validation part of the corpus (lower train_ratio)")
end

"""
    fit_lstm!(model, optimizer, settings, (training, validation); n_epoch, begin_epoch=1,
              skip=0, states=nothing, budget_s=nothing, min_batches=1, validate=true,
              nll=NLL(), callbacks=[], on_batch=nothing, on_epoch=nothing, on_interrupt=nothing,
              kvstore=:local, hooks=NO_HOOKS)

Trains `model` (a FeedForward of `LSTM(spec, settings.seq_len)` with its parameters set) on
`lstm_data`'s batches for epochs `begin_epoch:n_epoch`, the first starting after `skip`
batches, the optimizer resumed from `states` when given. With `budget_s` the one epoch
cycles over the training text until that many seconds have passed (and `min_batches` were
taken). `nll` is the metric: the training NLL during an epoch, the validation NLL after it
(when `validate`). Reports every batch through `hooks`, then runs `on_batch(model, progress)`;
`callbacks` run after the built-in ones, then `on_epoch(model, progress::TrainingProgress,
train_metric)` after each epoch. When
`hooks.poll` stops the training, `on_interrupt(progress)` runs first. A NaN or infinite
training NLL stops it with `TrainingDiverged`. A distributed `kvstore` (an mx.KVStore of a
parameter-server job) makes this process one of the job's workers: it trains on its shard of
the batches, and every worker takes the step of all their batches together.
"""
function fit_lstm!(model::mx.FeedForward, optimizer::mx.AbstractOptimizer, settings::TrainSettings,
                   (train_provider, val_provider)::Tuple{CharSeqProvider,CharSeqProvider}; n_epoch::Int,
                   begin_epoch::Int = 1, skip::Int = 0, states = nothing, budget_s = nothing,
                   min_batches::Int = 1, validate::Bool = true, nll::NLL = NLL(),
                   callbacks = mx.AbstractCallback[], on_batch = nothing, on_epoch = nothing,
                   on_interrupt = nothing, kvstore = :local, hooks::Hooks = NO_HOOKS)
    val_data = validate ? val_provider : nothing
    shard = Shard(kvstore)
    train_data = budget_s === nothing ? ResumedData(train_provider, skip, shard) :
                 BudgetedData(train_provider, budget_s, min_batches)
    progress = TrainingProgress(n_epoch, n_batches(train_provider), shard.workers,
                                settings.batch_size * settings.seq_len, settings.seed, skip)
    # In a dist_sync job each step waits for every worker, so they stop together, after the step
    # a vote agrees on: a worker that left alone would leave the others waiting forever.
    agree = kvstore isa mx.KVStore && mx.is_sync(kvstore) ? (flag -> mx.any_worker(kvstore, flag)) : identity
    function after_batch(state)
        stop = false
        try
            report_batch!(progress, state, nll, hooks)
        catch e
            e isa InterruptException || rethrow()
            stop = true
        end
        agree(stop) && throw(InterruptException())
        state.curr_batch > 0 && on_batch !== nothing && on_batch(model, progress)
    end
    all_callbacks = mx.AbstractCallback[mx.every_n_batch(after_batch, 1; call_on_0 = true); callbacks]
    on_epoch === nothing || push!(all_callbacks, mx.every_n_epoch((m, _, metric) -> on_epoch(m, progress, metric), 1))
    try
        mx.fit(model, optimizer, train_data; n_epoch = n_epoch, begin_epoch = begin_epoch, eval_data = val_data,
               eval_metric = nll, callbacks = all_callbacks, states = states, kvstore = kvstore)
    catch e
        e isa InterruptException && progress.epoch > 0 && on_interrupt !== nothing && on_interrupt(progress)
        rethrow()
    end
    return model
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

"""
    train_model(model, settings, corpus_files, corpus_cache; epochs, checkpoint_dir, contexts,
                kvstore=:local, compression=nothing, policy=RunPolicy(), resume=false,
                allow_new_text=false, hooks=NO_HOOKS) -> Dict

Trains the char-lstm `model` (ModelSpec's keywords but `n_class`, which the vocabulary of the
UTF-8 text in `corpus_files` fixes; encoded into the cache folder `corpus_cache` on first use,
then read from there) per `settings` on `contexts` (several train data-parallel)
up to epoch `epochs`, holding the run's lock. Saves `<name>-symbol.json`, `<name>-NNNN.params`,
`<name>-NNNN.states` and `<name>-meta.json` in `checkpoint_dir` after every epoch, the meta
last, so that it only ever names complete files. `policy` (a RunPolicy) adds validations and
checkpoints inside epochs (`<name>-NNNN-BBBBBB.*`), the metrics log, early stopping and
pruning. When `hooks.poll` stops it (Ctrl-C, SIGTERM)
it saves the epoch in progress, marked partial in the meta file, which `resume` continues
from the next batch, with the cell `model` asks for; a resumed run must train on the same
text unless `allow_new_text` (which still refuses characters outside its vocabulary).
Reports each checkpoint saved as a "checkpoint" event. Returns the meta (history included).

A distributed `kvstore` (`:dist_sync`, `:dist_device_sync`, `:dist_async`) makes this process
a worker of a parameter-server job (its DMLC_* environment): it joins the job, trains on its
shard of the batches, and only worker 0 writes (and locks) the run's files. `compression`
(`(type = "2bit", threshold = 0.5)`) compresses the gradients the workers send. With
`:dist_async` the servers hold the optimizer's state, which a checkpoint does not keep.
"""
function train_model(model::NamedTuple, settings::TrainSettings, corpus_files::AbstractVector{<:AbstractString},
                     corpus_cache::AbstractString; epochs::Int, checkpoint_dir::AbstractString,
                     contexts::AbstractVector{mx.Context}, kvstore::Symbol = :local, compression = nothing,
                     policy::RunPolicy = RunPolicy(), resume::Bool = false, allow_new_text::Bool = false,
                     hooks::Hooks = NO_HOOKS)
    mx.is_distributed(kvstore) || compression === nothing ||
        throw(ArgumentError("gradient compression applies to what the workers of a job send, not to kvstore $kvstore"))
    # Joining a job waits until every node of it has started.
    store = mx.is_distributed(kvstore) ? mx.KVStore(kvstore) : kvstore
    compression === nothing || mx.set_gradient_compression!(store, compression.type; threshold = compression.threshold)
    Shard(store).rank == 0 && check_writable(checkpoint_dir)
    prefix = joinpath(checkpoint_dir, String(model.name))
    train() = train_locked(model, settings, prefix, corpus_files, corpus_cache; epochs = epochs,
                           contexts = contexts, store = store, policy = policy, resume = resume,
                           allow_new_text = allow_new_text, hooks = hooks)
    meta = try
        Shard(store).rank == 0 ? with_run_lock(train, prefix) : train()
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

function train_locked(model, settings, prefix, corpus_files, corpus_cache; epochs, contexts, store, policy,
                      resume, allow_new_text, hooks)
    shard = Shard(store)
    writes = shard.rank == 0
    writes && mx.clear_stale_temps(dirname(prefix))
    hooks.poll()
    corpus = encoded_corpus(corpus_files, corpus_cache; hooks = hooks)
    hooks.poll()
    # Each worker updates once per round of the job's batches: a schedule spans epochs × rounds.
    n_train = train_size(length(corpus.ids), settings.train_ratio)
    rounds = n_batches(n_train, settings.batch_size, settings.seq_len) ÷ shard.workers
    optimizer = make_optimizer(settings, epochs * rounds)
    if resume && nothing_saved(prefix)
        @info "The run at $prefix saved nothing yet (it was stopped before its first checkpoint): starting it"
        resume = false
    end
    if resume
        meta, spec, arg_params, states, begin_epoch, skip =
            resume_point(prefix, model, settings, optimizer, corpus, allow_new_text)
        vocab = meta_vocab(meta)
    else
        writes && refuse_to_overwrite(prefix)
        vocab = corpus.vocab
        spec = ModelSpec(; model..., n_class = n_class(vocab))
        check_memory(spec, settings, length(contexts))   # before the weights are drawn
        meta = new_meta(vocab, spec, settings)
        meta["corpus_identity"] = corpus.identity
        mx.srand(settings.seed)
        arg_params = initial_params(spec, mx.UniformInitializer(settings.init_scale))
        states, begin_epoch, skip = nothing, 1, 0
        writes && rm(log_path(prefix); force = true)   # a log left by a run that saved nothing
    end
    meta["train"]["epochs"] = epochs
    begin_epoch > epochs &&
        throw(UserError("the run at $prefix has already trained $(begin_epoch - 1) epochs: " *
                        "ask for more with --epochs to continue it"))
    data = lstm_data(spec, settings, vocab, corpus)
    writes && write_meta(prefix, meta)   # from now on the folder always holds a run that loads

    ff = mx.FeedForward(LSTM(spec, settings.seq_len); context = contexts)
    ff.arg_params = arg_params
    # A resumed partial epoch's earlier batches: their NLL and seconds count in the epoch's record.
    before = get(meta, "partial", nothing)
    nll = NLL()
    validations = ValidationRecord(meta)
    chars_per_batch = settings.batch_size * settings.seq_len
    window = LogWindow(0.0, 0, ((begin_epoch - 1) * n_batches(data[1]) + skip) * chars_per_batch, time())
    saved_at = Ref((0, 0))   # (epoch, batch) of the last checkpoint written in this session
    latest = Ref{Any}(nothing)   # the TrainingProgress, for an early stop inside an epoch
    log_line(p, step; fields...) = writes && append_log(prefix, Dict{String,Any}(
        "epoch" => p.epoch, "batch" => p.batch, "step" => step, "chars" => step * chars_per_batch,
        "time" => time(), (string(k) => v for (k, v) in fields)...))
    learning_rate(p) = mx.get_learning_rate(optimizer.lr_scheduler, max(updates(p, rounds), 1))

    function at_batch(model, p::TrainingProgress)
        latest[] = p
        step = run_step(p)
        if reached(policy.log_every, step - p.step, step)
            train_nll, rate = advance!(window, nll, step * chars_per_batch)
            log_line(p, step; train_nll = train_nll, lr = learning_rate(p), chars_per_s = rate)
        end
        p.n_batch - p.batch < p.step && return   # the epoch's last round: it validates and saves next
        val_nll, stop = nothing, false
        if reached(policy.eval_every, step - p.step, step)
            val_nll = get(mx.score!(NLL(), model, SampledData(data[2], policy.eval_batches)))[1][2]
            @info @sprintf("Validation NLL after batch %d of epoch %d: %.4f", p.batch, p.epoch, val_nll)
            log_line(p, step; val_nll = val_nll)
            stop = count!(validations, val_nll, policy.patience)
        end
        if writes && reached(policy.checkpoint_every, step - p.step, step)
            record!(meta, validations)
            mx.sync_params!(model)
            train_nll, seconds = merged_epoch(before, p, p.train_nll)
            save_interval!(meta, prefix, model, optimizer, p; train_nll = train_nll, val_nll = val_nll,
                           seconds = seconds, cell = spec.cell, hooks = hooks)
            saved_at[] = (p.epoch, p.batch)
            prune!(meta, prefix, policy)
        end
        stop && throw(EarlyStop(p.epoch, p.batch, false, validations.best, policy.patience))
    end
    function save(model, p::TrainingProgress, metric)
        val_nll = get(nll)[1][2]
        isfinite(val_nll) || throw(TrainingDiverged(p.epoch, -1, val_nll))
        stop = count!(validations, val_nll, policy.patience)   # on every worker: they stop together
        if writes
            train_nll, seconds = merged_epoch(before, p, metric[1][2])
            record!(meta, validations)
            save_epoch!(meta, prefix, model, optimizer, p.epoch; train_nll = train_nll, val_nll = val_nll,
                        seconds = seconds, cell = spec.cell, hooks = hooks)
            saved_at[] = (p.epoch, p.batch)
            log_line(p, run_step(p); val_nll = val_nll)
            prune!(meta, prefix, policy)
        end
        restart!(window, run_step(p) * chars_per_batch)
        stop && throw(EarlyStop(p.epoch, p.batch, true, validations.best, policy.patience))
    end
    function interrupted(p::TrainingProgress)
        writes || return
        already = before === nothing || before["epoch"] != p.epoch ? 0 : before["batches_done"]
        # Nothing trained since the checkpoint on disk.
        (p.batch == already || (p.epoch, p.batch) == saved_at[]) && return
        train_nll, seconds = merged_epoch(before, p, p.train_nll)
        save_interrupted!(meta, prefix, ff, optimizer, p.epoch, p.batch; train_nll = train_nll,
                          seconds = seconds, cell = spec.cell, hooks = hooks)
    end
    @info "Training $(spec.layers)x$(spec.hidden) LSTM ($(spec.cell) cell) on $(length(corpus.ids)) characters " *
          "($(n_class(vocab)) classes) on $(join(string.(contexts), ", "))"
    try
        fit_lstm!(ff, optimizer, settings, data; n_epoch = epochs, begin_epoch = begin_epoch,
                  skip = skip, states = states, nll = nll, callbacks = [mx.speedometer()], on_batch = at_batch,
                  on_epoch = save, on_interrupt = interrupted, kvstore = store, hooks = hooks)
    catch e
        e isa EarlyStop && return stopped_early!(meta, prefix, e, writes, interrupted, latest[])
        e isa TrainingDiverged || rethrow()
        throw(UserError(diverged_message(e, meta, prefix, settings)))
    end
    return meta
end

# Patience ran out: inside an epoch its progress is saved as for Ctrl-C, so that `--resume`
# (with more patience, say) continues from there.
function stopped_early!(meta, prefix, e::EarlyStop, writes, save_progress, progress)
    e.at_epoch_end || save_progress(progress)
    meta["stopped_early"] = Dict{String,Any}("epoch" => e.epoch, "batch" => e.batch, "best_val_nll" => e.best,
                                             "patience" => e.patience)
    writes && write_meta(prefix, meta)
    @info @sprintf("Stopped early in epoch %d: %d validations in a row did not beat the best NLL, %.4f",
                   e.epoch, e.patience, e.best)
    return meta
end

"Batches of the run so far, as one process counts them (a job's round is `workers` batches)."
run_step(p::TrainingProgress) = (p.epoch - 1) * p.n_batch + p.batch

"Updates each weight has had so far: one per round of the job's batches."
updates(p::TrainingProgress, rounds::Integer) = (p.epoch - 1) * rounds + p.batch ÷ p.step

"""
What the metrics log measures between two of its lines: this worker's training NLL sums (the
metric restarts every epoch), the run's characters and the clock.
"""
mutable struct LogWindow
    nll_sum::Float64
    n_chars::Int
    run_chars::Int
    started::Float64
end

"The training NLL and characters per second (all workers) since the last line, up to `run_chars`."
function advance!(w::LogWindow, nll::NLL, run_chars::Int)
    if nll.n_chars < w.n_chars   # the epoch restarted the metric
        w.nll_sum, w.n_chars = 0.0, 0
    end
    chars = nll.n_chars - w.n_chars
    mean = chars > 0 ? (nll.nll_sum - w.nll_sum) / chars : NaN
    now = time()
    rate = (run_chars - w.run_chars) / max(now - w.started, 1e-9)
    w.nll_sum, w.n_chars, w.run_chars, w.started = nll.nll_sum, nll.n_chars, run_chars, now
    return mean, rate
end

# After an epoch's validation: the next line measures the next epoch's training alone.
function restart!(w::LogWindow, run_chars::Int)
    w.nll_sum, w.n_chars, w.run_chars, w.started = 0.0, 0, run_chars, time()
    return w
end

function diverged_message(e::TrainingDiverged, meta, prefix, settings)
    where = e.batch < 0 ? "its validation" : "batch $(e.batch)"
    kept = meta["epoch"] == 0 ? "no epoch was saved before" :
           "the last good checkpoint, $(mx.checkpoint_params_file(prefix, meta["epoch"])), is kept"
    return "training diverged in epoch $(e.epoch) at $where (the NLL became $(e.nll)): nothing of that " *
           "epoch was saved and $kept; lower learning_rate (now $(settings.learning_rate)) or set grad_clip"
end

# Whether the run at `prefix` was started but saved no checkpoint (its meta is written first).
function nothing_saved(prefix)
    isfile(meta_path(prefix)) || return false
    meta = read_meta(meta_path(prefix))
    return meta["epoch"] == 0 && !haskey(meta, "partial")
end

# A run that saved nothing may be started again; anything more is the user's work.
function refuse_to_overwrite(prefix)
    isfile(meta_path(prefix)) && !nothing_saved(prefix) &&
        throw(UserError("$(meta_path(prefix)) already holds a run: add --resume to continue it, " *
                        "or choose another checkpoint_dir or model name to start afresh"))
end

"""
    merged_epoch(before, progress, train_nll) -> (train_nll, seconds)

The epoch's record so far: this session's `train_nll` and seconds, merged (by batches) with
what a resumed partial epoch (`before`, the meta's "partial") had measured before.
"""
function merged_epoch(before, p::TrainingProgress, train_nll)
    seconds = time() - p.epoch_started
    # A partial epoch saved before its NLL and seconds were recorded counts from the resume.
    (before === nothing || before["epoch"] != p.epoch || before["batches_done"] == 0 ||
     !haskey(before, "train_nll")) && return train_nll, seconds
    done, now = before["batches_done"], p.batch - before["batches_done"]
    merged = now == 0 ? before["train_nll"] : (done * before["train_nll"] + now * train_nll) / p.batch
    return merged, before["seconds"] + seconds
end

# Where `--resume` starts: after the last saved epoch, or inside an interrupted one. The run
# goes on with the cell `model` asks for, its weights and optimizer states converted, on `corpus`.
function resume_point(prefix, model::NamedTuple, settings::TrainSettings, optimizer, corpus, allow_new_text)
    isfile(meta_path(prefix)) ||
        throw(UserError("there is no run to resume at $prefix ($(meta_path(prefix)) is missing): " *
                        "train without --resume first, or point --checkpoint-dir at the run"))
    meta = read_meta(meta_path(prefix))
    different = differing_setting(settings, meta["train"])
    different === nothing ||
        throw(UserError("--resume continues the saved run, which has $(different[1]) = $(repr(different[2])), " *
                        "not $(repr(different[3])): drop that setting or start a new run elsewhere"))
    spec = model_spec(meta)
    for key in (:layers, :hidden, :embed, :dropout)
        getfield(spec, key) == model[key] ||
            throw(UserError("--resume continues the saved run, whose model has $key = $(getfield(spec, key)), " *
                            "not $(model[key]): use the saved run's settings"))
    end
    check_same_text!(meta, corpus, meta_vocab(meta), allow_new_text)
    partial = get(meta, "partial", nothing)
    epoch, skip = partial === nothing ? (meta["epoch"], 0) : (partial["epoch"], partial["batches_done"])
    cell = model.cell
    # The file's own cell (an earlier epoch may have been trained with the other one).
    params_file, states_file = checkpoint_files(partial === nothing ? epoch_stem(prefix, epoch) :
                                                partial_stem(meta, prefix))
    _, saved_spec, saved_params = load_trained(params_file)
    isfile(states_file) ||
        throw(UserError("$states_file is missing, so the optimizer cannot continue where it " *
                        "stopped: restore it, or start a new run"))
    states = load_states(states_file, optimizer, arrays -> convert_cell(arrays, saved_spec, cell))
    if cell != saved_spec.cell
        @info "Converting the run from the $(saved_spec.cell) cell to the $cell cell"
        meta["model"]["cell"] = String(cell)
    end
    begin_epoch = partial === nothing ? epoch + 1 : epoch
    delete!(meta, "stopped_early")   # it trains on, with whatever patience it has now
    @info partial === nothing ? "Resuming after epoch $epoch" : "Resuming epoch $epoch after batch $skip"
    return meta, with_cell(saved_spec, cell), convert_cell(saved_params, saved_spec, cell), states, begin_epoch, skip
end

# The optimizer's saved state, converted to the cell that goes on; a damaged file is the user's to fix.
function load_states(path, optimizer, convert)
    try
        return mx.load_states(path, optimizer; convert = convert)
    catch e
        e isa mx.MXError || rethrow()
        throw(UserError("the optimizer state file $path is corrupt, truncated or not pyjlchar's " *
                        "($(first(split(e.msg, '\n')))): restore it, or start a new run"))
    end
end

function save_states!(prefix, epoch, model, optimizer)
    mx.write_atomically(tmp -> mx.save_states(tmp, optimizer, model.opt_states), states_path(prefix, epoch))
end

# Before overwriting the files of an epoch that the meta names as partial, the meta goes back to
# the last complete epoch: a kill in between then leaves files that agree with each other.
function release_partial!(meta, prefix, epoch)
    partial = get(meta, "partial", nothing)
    partial !== nothing && partial["epoch"] == epoch || return
    delete!(meta, "partial")
    write_meta(prefix, meta)
end

# After each epoch: params, optimizer states, then the meta file that points at them.
function save_epoch!(meta, prefix, model, optimizer, epoch; train_nll, val_nll, seconds, cell, hooks)
    release_partial!(meta, prefix, epoch)
    mx.save_checkpoint(model, prefix, epoch)
    save_states!(prefix, epoch, model, optimizer)
    record_epoch!(meta, epoch; train_nll = train_nll, val_nll = val_nll, seconds = seconds, cell = cell)
    write_meta(prefix, meta)
    hooks.progress("checkpoint"; path = mx.checkpoint_params_file(prefix, epoch), epoch = epoch, partial = false)
end

# Inside an epoch (checkpoint_every): the weights, the optimizer states, then the meta naming
# them as the partial epoch `--resume` continues and as one of the run's checkpoints.
function save_interval!(meta, prefix, model, optimizer, p::TrainingProgress; train_nll, val_nll, seconds, cell, hooks)
    stem = interval_stem(prefix, p.epoch, p.batch)
    params_file, states_file = checkpoint_files(stem)
    mx.write_atomically(tmp -> mx.save(tmp, model.arch), mx.checkpoint_symbol_file(prefix))
    mx.save_params(params_file, model.arg_params, model.aux_params)
    mx.write_atomically(tmp -> mx.save_states(tmp, optimizer, model.opt_states), states_file)
    checkpoints = get!(meta, "checkpoints", Any[])
    filter!(c -> (c["epoch"], c["batch"]) < (p.epoch, p.batch), checkpoints)   # from before a resume
    push!(checkpoints, Dict{String,Any}("epoch" => p.epoch, "batch" => p.batch, "file" => basename(stem),
                                        "train_nll" => train_nll, "val_nll" => val_nll))
    meta["partial"] = Dict{String,Any}("epoch" => p.epoch, "batches_done" => p.batch, "train_nll" => train_nll,
                                       "seconds" => seconds, "cell" => String(cell), "file" => basename(stem))
    write_meta(prefix, meta)
    hooks.progress("checkpoint"; path = params_file, epoch = p.epoch, partial = true)
end

# When stopped: the weights after the last complete batch, as the (partial) epoch in progress,
# with the training NLL and seconds measured so far.
function save_interrupted!(meta, prefix, model, optimizer, epoch, batches_done; train_nll, seconds, cell, hooks)
    isempty(model.arg_params) && return
    release_partial!(meta, prefix, epoch)
    mx.save_checkpoint(model, prefix, epoch)
    save_states!(prefix, epoch, model, optimizer)
    meta["partial"] = Dict{String,Any}("epoch" => epoch, "batches_done" => batches_done, "train_nll" => train_nll,
                                       "seconds" => seconds, "cell" => String(cell))
    write_meta(prefix, meta)
    hooks.progress("checkpoint"; path = mx.checkpoint_params_file(prefix, epoch), epoch = epoch, partial = true)
    @info "Interrupted in epoch $epoch after batch $batches_done; saved it to resume from there"
end

# A training run's state as it trains (`TrainingRun`) and what it does at a batch, at the end of
# an epoch, on a stop and when patience runs out: validate, save, log, prune. `train_model`
# (train.jl) makes one and hands its methods to `fit_lstm!`.

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

"""
    TrainingRun

A run while it trains: its meta (written by worker 0 only, `writes`), where its files go
(`prefix`), its policy, the model and optimizer being trained, the metric, the resumed partial
epoch's earlier record (`before`), the metrics log's window, the last checkpoint written in
this session (`saved_at`, epoch and batch) and the latest progress.
"""
mutable struct TrainingRun
    meta::RunMeta
    prefix::String
    policy::RunPolicy
    writes::Bool
    model::mx.FeedForward
    optimizer::mx.AbstractOptimizer
    rounds::Int   # updates of each weight per epoch: one per round of the job's batches
    validation::CharSeqProvider
    nll::NLL
    before::Union{PartialEpoch,Nothing}
    window::LogWindow
    saved_at::Tuple{Int,Int}
    latest::Union{TrainingProgress,Nothing}
    hooks::Hooks
end

TrainingRun(meta::RunMeta, prefix::AbstractString, policy::RunPolicy, writes::Bool, model::mx.FeedForward,
            optimizer::mx.AbstractOptimizer, rounds::Int, validation::CharSeqProvider; run_chars::Int, hooks::Hooks) =
    TrainingRun(meta, prefix, policy, writes, model, optimizer, rounds, validation, NLL(), meta.partial,
                LogWindow(0.0, 0, run_chars, time()), (0, 0), nothing, hooks)

chars_per_batch(run::TrainingRun) = run.meta.train.batch_size * run.meta.train.seq_len

"Updates each weight has had so far: one per round of the job's batches."
updates(run::TrainingRun, p::TrainingProgress) = (p.epoch - 1) * run.rounds + p.batch ÷ p.step

learning_rate(run::TrainingRun, p::TrainingProgress) =
    mx.get_learning_rate(run.optimizer.lr_scheduler, max(updates(run, p), 1))

"A line of the metrics log (worker 0 only): where the run is, and `fields`."
log_line(run::TrainingRun, p::TrainingProgress, step::Int; fields...) =
    run.writes && append_log(run.prefix, Dict{String,Any}(
        "epoch" => p.epoch, "batch" => p.batch, "step" => step, "chars" => step * chars_per_batch(run),
        "time" => time(), (string(k) => v for (k, v) in fields)...))

"""
    merged_epoch(run, progress, train_nll) -> (train_nll, seconds)

The epoch's record so far: this session's `train_nll` and seconds, merged (by batches) with
what a resumed partial epoch (`run.before`) had measured before.
"""
function merged_epoch(run::TrainingRun, p::TrainingProgress, train_nll)
    seconds = time() - p.epoch_started
    before = run.before
    # A partial epoch saved before its NLL and seconds were recorded counts from the resume.
    (before === nothing || before.epoch != p.epoch || before.batches_done == 0 || before.train_nll === nothing) &&
        return train_nll, seconds
    done, now = before.batches_done, p.batch - before.batches_done
    merged = now == 0 ? before.train_nll : (done * before.train_nll + now * train_nll) / p.batch
    return merged, something(before.seconds, 0.0) + seconds
end

"""
    at_batch!(run, model, progress)

After every batch: a metrics log line every `log_every` batches, a validation every
`eval_every` (which may stop the run early) and a checkpoint every `checkpoint_every`; the
epoch's last round is left to `at_epoch_end!`.
"""
function at_batch!(run::TrainingRun, model::mx.FeedForward, p::TrainingProgress)
    run.latest = p
    step, policy = run_step(p), run.policy
    if reached(policy.log_every, step - p.step, step)
        train_nll, rate = advance!(run.window, run.nll, step * chars_per_batch(run))
        log_line(run, p, step; train_nll = train_nll, lr = learning_rate(run, p), chars_per_s = rate)
    end
    p.n_batch - p.batch < p.step && return   # the epoch's last round: it validates and saves next
    val_nll, stop = nothing, false
    if reached(policy.eval_every, step - p.step, step)
        val_nll = get(mx.score!(NLL(), model, SampledData(run.validation, policy.eval_batches)))[1][2]
        @info @sprintf("Validation NLL after batch %d of epoch %d: %.4f", p.batch, p.epoch, val_nll)
        log_line(run, p, step; val_nll = val_nll)
        stop = count!(run.meta.validations, val_nll, policy.patience)
    end
    if run.writes && reached(policy.checkpoint_every, step - p.step, step)
        mx.sync_params!(model)
        train_nll, seconds = merged_epoch(run, p, p.train_nll)
        save_interval!(run, p; train_nll = train_nll, val_nll = val_nll, seconds = seconds)
        prune!(run.meta, run.prefix, policy)
    end
    stop && throw(EarlyStop(p.epoch, p.batch, false, run.meta.validations.best, policy.patience))
end

"""
    at_epoch_end!(run, model, progress, train_metric)

After every epoch's validation: counts it for patience (on every worker, so that a job's
workers stop together), saves the epoch's checkpoint, logs and prunes.
"""
function at_epoch_end!(run::TrainingRun, model::mx.FeedForward, p::TrainingProgress, metric)
    val_nll = get(run.nll)[1][2]
    isfinite(val_nll) || throw(TrainingDiverged(p.epoch, -1, val_nll))
    stop = count!(run.meta.validations, val_nll, run.policy.patience)
    if run.writes
        train_nll, seconds = merged_epoch(run, p, metric[1][2])
        save_epoch!(run, p; train_nll = train_nll, val_nll = val_nll, seconds = seconds)
        log_line(run, p, run_step(p); val_nll = val_nll)
        prune!(run.meta, run.prefix, run.policy)
    end
    restart!(run.window, run_step(p) * chars_per_batch(run))
    stop && throw(EarlyStop(p.epoch, p.batch, true, run.meta.validations.best, run.policy.patience))
end

"""
    on_stop!(run, progress)

When stopped inside an epoch (Ctrl-C, SIGTERM, patience): saves the weights after the last
complete batch as the partial epoch `--resume` continues, unless nothing was trained since the
checkpoint on disk.
"""
function on_stop!(run::TrainingRun, p::TrainingProgress)
    run.writes || return
    already = run.before === nothing || run.before.epoch != p.epoch ? 0 : run.before.batches_done
    (p.batch == already || (p.epoch, p.batch) == run.saved_at) && return
    train_nll, seconds = merged_epoch(run, p, p.train_nll)
    save_interrupted!(run, p; train_nll = train_nll, seconds = seconds)
end

"Patience ran out: inside an epoch its progress is saved as for Ctrl-C, so that `--resume` continues from there."
function stopped_early!(run::TrainingRun, e::EarlyStop)
    e.at_epoch_end || on_stop!(run, run.latest)
    run.meta.stopped_early = EarlyStopRecord(e.epoch, e.batch, e.best, e.patience)
    run.writes && write_meta(run.prefix, run.meta)
    @info @sprintf("Stopped early in epoch %d: %d validations in a row did not beat the best NLL, %.4f",
                   e.epoch, e.patience, e.best)
    return run.meta
end

# ----- saving ----------------------------------------------------------------------------------

states_path(prefix, epoch) = last(checkpoint_files(epoch_stem(prefix, epoch)))

save_states!(run::TrainingRun, path::AbstractString) =
    mx.write_atomically(tmp -> mx.save_states(tmp, run.optimizer, run.model.opt_states), path)

# Before overwriting the files of an epoch that the meta names as partial, the meta goes back to
# the last complete epoch: a kill in between then leaves files that agree with each other.
function release_partial!(run::TrainingRun, epoch::Int)
    partial = run.meta.partial
    partial !== nothing && partial.epoch == epoch || return
    run.meta.partial = nothing
    write_meta(run.prefix, run.meta)
end

# After each epoch: params, optimizer states, then the meta file that points at them.
function save_epoch!(run::TrainingRun, p::TrainingProgress; train_nll, val_nll, seconds)
    epoch = p.epoch
    release_partial!(run, epoch)
    mx.save_checkpoint(run.model, run.prefix, epoch)
    save_states!(run, states_path(run.prefix, epoch))
    record_epoch!(run.meta, epoch; train_nll = train_nll, val_nll = val_nll, seconds = seconds,
                  graph = run.meta.model.graph)
    write_meta(run.prefix, run.meta)
    run.saved_at = (epoch, p.batch)
    run.hooks.progress("checkpoint"; path = mx.checkpoint_params_file(run.prefix, epoch), epoch = epoch,
                       partial = false)
end

# Inside an epoch (checkpoint_every): the weights, the optimizer states, then the meta naming
# them as the partial epoch `--resume` continues and as one of the run's checkpoints.
function save_interval!(run::TrainingRun, p::TrainingProgress; train_nll, val_nll, seconds)
    stem = interval_stem(run.prefix, p.epoch, p.batch)
    params_file, states_file = checkpoint_files(stem)
    mx.write_atomically(tmp -> mx.save(tmp, run.model.arch), mx.checkpoint_symbol_file(run.prefix))
    mx.save_params(params_file, run.model.arg_params, run.model.aux_params)
    save_states!(run, states_file)
    meta = run.meta
    filter!(c -> (c.epoch, c.batch) < (p.epoch, p.batch), meta.checkpoints)   # from before a resume
    push!(meta.checkpoints, IntervalCheckpoint(p.epoch, p.batch, basename(stem), train_nll, val_nll))
    meta.partial = PartialEpoch(p.epoch, p.batch, train_nll, seconds, meta.model.graph, basename(stem))
    write_meta(run.prefix, meta)
    run.saved_at = (p.epoch, p.batch)
    run.hooks.progress("checkpoint"; path = params_file, epoch = p.epoch, partial = true)
end

# When stopped: the weights after the last complete batch, as the (partial) epoch in progress,
# with the training NLL and seconds measured so far.
function save_interrupted!(run::TrainingRun, p::TrainingProgress; train_nll, seconds)
    isempty(run.model.arg_params) && return
    release_partial!(run, p.epoch)
    mx.save_checkpoint(run.model, run.prefix, p.epoch)
    save_states!(run, states_path(run.prefix, p.epoch))
    run.meta.partial = PartialEpoch(p.epoch, p.batch, train_nll, seconds, run.meta.model.graph, nothing)
    write_meta(run.prefix, run.meta)
    run.hooks.progress("checkpoint"; path = mx.checkpoint_params_file(run.prefix, p.epoch), epoch = p.epoch,
                       partial = true)
    @info "Interrupted in epoch $(p.epoch) after batch $(p.batch); saved it to resume from there"
end

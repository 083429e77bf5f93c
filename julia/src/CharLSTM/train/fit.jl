# One training pass of the char-lstm: mx.fit with the NLL metric, progress after every batch
# and the stop request polled there (`fit_lstm!`, which `train_model` and `bench_train` share).

"""
The training NLL became NaN or infinite: the weights are ruined, so nothing of the epoch in
progress may be saved.
"""
struct TrainingDiverged <: Exception
    epoch::Int
    batch::Int
    nll::Float64
end

"Where training is, for the progress events and for what runs after a batch or a stop."
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
TrainingProgress(n_epoch, n_batch, step, chars_per_batch; seed, skip) =
    TrainingProgress(n_epoch, n_batch, step, chars_per_batch, seed, skip, 0, 0, NaN, time())

"Batches of the run so far, as one process counts them (a job's round is `workers` batches)."
run_step(p::TrainingProgress) = (p.epoch - 1) * p.n_batch + p.batch

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
    lstm_data(spec, data, train, vocab, corpus) -> (training, validation)

The batches `LSTM(spec, train.seq_len)` trains and validates on, read from the memory-mapped
ids of `corpus` (an EncodedCorpus) as classes of `vocab`: its first `train_size` characters
(`data.train_ratio` of them) train, the rest validate (a UserError when a part is too short
for one batch).
"""
function lstm_data(spec::ModelSpec, data::DataSettings, train::TrainSettings, vocab::Vocabulary, corpus::EncodedCorpus)
    classes = class_map(corpus.vocab, vocab)
    n = length(corpus.ids)
    n_train = train_size(n, data.train_ratio)
    provider(range, part) = CharSeqProvider(view(corpus.ids, range), classes, train.batch_size, train.seq_len, spec;
                                            part = part)
    return provider(1:n_train, "training part of the corpus"),
           provider(n_train+1:n, "validation part of the corpus (lower train_ratio)")
end

"""
    fit_lstm!(model, optimizer, train, (training, validation); n_epoch, begin_epoch=1,
              skip=0, states=nothing, budget_s=nothing, min_batches=1, validate=true,
              nll=NLL(), callbacks=[], on_batch=nothing, on_epoch=nothing, on_interrupt=nothing,
              kvstore=:local, hooks=NO_HOOKS)

Trains `model` (a FeedForward of `LSTM(spec, train.seq_len)` with its parameters set) on
`lstm_data`'s batches for epochs `begin_epoch:n_epoch`, the first starting after `skip`
batches, the optimizer resumed from `states` when given. With `budget_s` the one epoch
cycles over the training text until that many seconds have passed (and `min_batches` were
taken). `nll` is the metric: the training NLL during an epoch, the validation NLL after it
(when `validate`). Reports every batch through `hooks`, then runs `on_batch(model, progress)`;
`callbacks` run after the built-in ones, then `on_epoch(model, progress::TrainingProgress,
train_metric)` after each epoch. When `hooks.poll` stops the training, `on_interrupt(progress)`
runs first. A NaN or infinite training NLL stops it with `TrainingDiverged`. A distributed
`kvstore` (an mx.KVStore of a parameter-server job) makes this process one of the job's
workers: it trains on its shard of the batches, and every worker takes the step of all their
batches together.
"""
function fit_lstm!(model::mx.FeedForward, optimizer::mx.AbstractOptimizer, train::TrainSettings,
                   (train_provider, val_provider)::Tuple{CharSeqProvider,CharSeqProvider}; n_epoch::Int,
                   begin_epoch::Int = 1, skip::Int = 0, states = nothing, budget_s = nothing,
                   min_batches::Int = 1, validate::Bool = true, nll::NLL = NLL(),
                   callbacks = mx.AbstractCallback[], on_batch = nothing, on_epoch = nothing,
                   on_interrupt = nothing, kvstore = :local, hooks::Hooks = NO_HOOKS)
    val_data = validate ? val_provider : nothing
    shard = Shard(kvstore)
    train_data = budget_s === nothing ? ResumedData(train_provider, skip, shard) :
                 BudgetedData(train_provider, budget_s, min_batches)
    progress = TrainingProgress(n_epoch, n_batches(train_provider), shard.workers, train.batch_size * train.seq_len;
                                seed = train.seed, skip = skip)
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

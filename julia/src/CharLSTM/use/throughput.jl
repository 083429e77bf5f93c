# Throughput for `pyjlchar bench` and bench/compare.py: training chars/s and validation NLL
# after a wall-clock budget, and sampling chars/s, on the real code paths.

using Random: MersenneTwister

"""
    bench_train(model, data, train, compute, corpus_files, corpus_cache; seconds, warmup_batches=3,
                validate=false, profile=false, hooks=NO_HOOKS) -> Dict

Trains as `train_model` does (the encoded corpus, `fit_lstm!`; on `compute`'s devices, no
checkpoints) for `seconds` of wall-clock time from the first batch (and at least one batch
after the warm-up). `model` is the [model] section (its `n_class` comes from the corpus).
Returns "chars_per_s" (after the warm-up batches), "batches", "seconds", "train_nll" and,
with `validate`, "val_nll" over the held-out part (else `nothing`). With `profile`,
libmxnet's profiler runs meanwhile, and "profile_per_batch" holds its [calls, milliseconds]
per batch by domain ("operator", "MXNET_C_API") and name (it slows what it times: measure
"chars_per_s" without it).
"""
function bench_train(model::AbstractDict, data::DataSettings, train::TrainSettings, compute::ComputeSettings,
                     corpus_files::AbstractVector{<:AbstractString}, corpus_cache::AbstractString; seconds::Real,
                     warmup_batches::Integer = 3, validate::Bool = false, profile::Bool = false,
                     hooks::Hooks = NO_HOOKS)
    corpus = encoded_corpus(corpus_files, corpus_cache; hooks = hooks)
    vocab = corpus.vocab
    spec = from_section(ModelSpec, model; n_class = n_class(vocab))
    mx.srand(train.seed)
    ff = mx.FeedForward(LSTM(spec, train.seq_len); context = devices(compute.context))
    ff.arg_params = initial_params(spec, mx.UniformInitializer(train.init_scale))
    ends = Float64[]   # when each batch finished
    nll, train_nll = NLL(), Ref(NaN)
    timed_hooks = Hooks(progress = (event; fields...) -> push!(ends, time()), poll = hooks.poll)
    keep_nll = mx.every_n_epoch((_, state, metric) -> train_nll[] = metric[1][2], 1)
    batches = lstm_data(spec, data, train, vocab, corpus)
    optimizer = make_optimizer(train, n_batches(batches[1]))   # a schedule spans one epoch
    fit() = Base.CoreLogging.with_logger(Base.CoreLogging.NullLogger()) do   # no epoch summaries
        fit_lstm!(ff, optimizer, train, batches; n_epoch = 1, budget_s = Float64(seconds),
                  min_batches = warmup_batches + 1, validate = validate, nll = nll, callbacks = [keep_nll],
                  hooks = timed_hooks)
    end
    stats = profile ? last(mx.profile(fit)) : (fit(); nothing)
    timed = length(ends) - warmup_batches
    elapsed = ends[end] - ends[warmup_batches]
    result = Dict{String,Any}("chars_per_s" => timed * train.batch_size * train.seq_len / elapsed,
                              "batches" => length(ends), "seconds" => Float64(seconds),
                              "train_nll" => train_nll[], "val_nll" => validate ? get(nll)[1][2] : nothing)
    if stats !== nothing
        result["profile_per_batch"] = Dict(domain => Dict(name => [calls / length(ends), ms / length(ends)]
                                                          for (name, (calls, ms)) in rows)
                                           for (domain, rows) in stats)
    end
    return result
end

"""
    bench_sample(spec; streams, seconds, init_scale, context=mx.cpu(), hooks=NO_HOOKS) -> Dict

Sampling throughput ("chars_per_s", all streams together) of the model `spec` with random
weights U(±init_scale) drawing `streams` texts at once (as `sample_text` draws them), after
a warm-up, for about `seconds`, on `context`.
"""
function bench_sample(spec::ModelSpec; streams::Integer, seconds::Real, init_scale::Real,
                      context::mx.Context = mx.cpu(), hooks::Hooks = NO_HOOKS)
    mx.srand(1)
    predictor = step_predictor(spec, initial_params(spec, mx.UniformInitializer(init_scale)), streams;
                               context = context)
    drawing = TextDraw(predictor, MersenneTwister(1), 1.0, 0, 1.0, spec.n_class - 1, zeros(Int32, streams))
    draw!(drawing, 20, hooks)   # warm-up: compilation and first allocations
    n_chars, started = 0, time()
    while time() - started < seconds
        draw!(drawing, 100, hooks)
        n_chars += 100streams
    end
    return Dict{String,Any}("chars_per_s" => n_chars / (time() - started), "streams" => streams)
end

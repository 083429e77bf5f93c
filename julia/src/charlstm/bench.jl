# Throughput measurements for `pyjlchar bench` and bench/compare.py: training chars/s and
# validation NLL after a wall-clock budget, and sampling chars/s, on the real code paths.

using Random: MersenneTwister

"""
    BudgetedData(provider, seconds, min_batches)

`provider`'s batches, cycling over its text, until `seconds` have passed since the first
batch was taken, and at least `min_batches`: one "epoch" of `fit` is then a training run
with a wall-clock budget.
"""
struct BudgetedData <: CharSeqPass
    inner::CharSeqProvider
    seconds::Float64
    min_batches::Int
end

mx.eachbatch(p::BudgetedData) = BudgetedBatches(mx.eachbatch(p.inner), p.seconds, p.min_batches)

struct BudgetedBatches
    batches::CharSeqBatches
    seconds::Float64
    min_batches::Int
end
Base.IteratorSize(::Type{BudgetedBatches}) = Base.SizeUnknown()
Base.eltype(::Type{BudgetedBatches}) = mx.DataBatch

# The state is (deadline, batches taken); the deadline is set when the first batch is asked for.
function Base.iterate(b::BudgetedBatches, (deadline, taken) = (time() + b.seconds, 0))
    taken < b.min_batches || time() < deadline || return nothing
    batch, _ = iterate(b.batches, taken % length(b.batches) + 1)
    return batch, (deadline, taken + 1)
end

"""
    bench_train(corpus_file; cell="lstm", layers=2, hidden=256, embed=256, seq_len=32,
                batch_size=32, train_ratio=0.9, seconds=60.0, warmup_batches=3,
                validate=false, seed=42, learning_rate=0.01) -> Dict

Trains the original's setup (ADAM, weight decay 1e-5, gradient clip 1, weights U(±0.1)) on
the UTF-8 text in `corpus_file` for `seconds` of wall-clock time from the first batch (and
at least one batch after the warm-up).
Returns "chars_per_s" (after the warm-up batches), "batches", "seconds", "train_nll" and,
with `validate`, "val_nll" over the held-out part (else `nothing`).
"""
function bench_train(corpus_file::AbstractString; cell = "lstm", layers::Integer = 2, hidden::Integer = 256,
                     embed::Integer = 256, seq_len::Integer = 32, batch_size::Integer = 32,
                     train_ratio::Real = 0.9, seconds::Real = 60.0, warmup_batches::Integer = 3,
                     validate::Bool = false, seed::Integer = 42, learning_rate::Real = 0.01)
    text = read(corpus_file, String)
    vocab = build_vocabulary(text)
    spec = ModelSpec(:ptb, layers, hidden, embed, n_class(vocab), 0.0; cell = as_cell(cell))
    train_text, val_text = split_text(text, train_ratio)
    provider(part) = CharSeqProvider(part, batch_size, seq_len, vocab, spec)
    mx.srand(seed)
    model = mx.FeedForward(LSTM(spec, seq_len))
    model.arg_params = initial_params(spec, mx.UniformInitializer(0.1))
    optimizer = mx.ADAM(lr = learning_rate, weight_decay = 1e-5, grad_clip = 1.0)
    ends = Float64[]   # when each batch finished
    nll, train_nll = NLL(), Ref(NaN)
    callbacks = [mx.every_n_batch(_ -> (push!(ends, time()); Bridge.poll()), 1),
                 mx.every_n_epoch((_, state, metric) -> state.curr_epoch == 1 && (train_nll[] = metric[1][2]), 1)]
    Base.CoreLogging.with_logger(Base.CoreLogging.NullLogger()) do   # no epoch summaries
        mx.fit(model, optimizer, BudgetedData(provider(train_text), seconds, warmup_batches + 1); n_epoch = 1,
               eval_data = validate ? provider(val_text) : nothing, eval_metric = nll, callbacks = callbacks)
    end
    timed = length(ends) - warmup_batches
    elapsed = ends[end] - ends[warmup_batches]
    return Dict{String,Any}("chars_per_s" => timed * batch_size * seq_len / elapsed,
                            "batches" => length(ends), "seconds" => Float64(seconds),
                            "train_nll" => train_nll[], "val_nll" => validate ? get(nll)[1][2] : nothing)
end

"""
    bench_sample(; cell="lstm", layers=2, hidden=256, embed=256, n_class=65, streams=1,
                 seconds=5.0) -> Dict

Sampling throughput ("chars_per_s", all streams together) of a model with random weights
drawing `streams` texts at once, after a warm-up, for about `seconds`.
"""
function bench_sample(; cell = "lstm", layers::Integer = 2, hidden::Integer = 256, embed::Integer = 256,
                      n_class::Integer = 65, streams::Integer = 1, seconds::Real = 5.0)
    spec = ModelSpec(:ptb, layers, hidden, embed, n_class, 0.0; cell = as_cell(cell))
    mx.srand(1)
    predictor = StatefulPredictor(spec, initial_params(spec, mx.UniformInitializer(0.1)), 1, streams)
    rng = MersenneTwister(1)
    draw(n) = draw_chars(predictor, Int32[0], n, streams, rng, 1.0, 0, Int32(n_class - 1))
    draw(20)   # warm-up: compilation and first allocations
    n_chars, started = 0, time()
    while time() - started < seconds
        draw(100)
        n_chars += 100streams
    end
    return Dict{String,Any}("chars_per_s" => n_chars / (time() - started), "streams" => streams)
end

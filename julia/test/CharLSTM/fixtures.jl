# What the CharLSTM tests share: small models and settings, and a tiny checkpoint made by
# hand (random weights, a real vocabulary and a meta file). The defaults the commands use live
# in Python (pyjlchar/settings.py); these are the tests' own.

spec_for(n_class; layers = 2, hidden = 8, embed = 6, dropout = 0.0, graph = :unrolled, name = "ptb") =
    CharLSTM.check(CharLSTM.ModelSpec(; name = String(name), cell = :lstm, graph = graph, layers = layers,
                                      hidden = hidden, embed = embed, dropout = dropout, n_class = n_class))

"A [model] section as Python sends it (no n_class: the vocabulary decides it)."
model_section(; name = "ptb", graph = "unrolled", layers = 1, hidden = 8, embed = 4, dropout = 0.0) =
    Dict{String,Any}("name" => name, "cell" => "lstm", "graph" => String(graph), "layers" => layers,
                     "hidden" => hidden, "embed" => embed, "dropout" => dropout)

data_settings(; corpus = "test", train_ratio = 0.9) =
    CharLSTM.check(CharLSTM.DataSettings(; corpus = corpus, train_ratio = train_ratio))

test_settings(; seq_len = 4, batch_size = 2, optimizer = :adam, learning_rate = 0.01, weight_decay = 0.0,
              grad_clip = 0.0, init_scale = 0.1, seed = 1, lr_schedule = :constant, warmup = 0, min_lr = 0.0,
              lr_step = 1000, lr_factor = 0.5) =
    CharLSTM.check(CharLSTM.TrainSettings(; seq_len, batch_size, optimizer, learning_rate, weight_decay, grad_clip,
                                          init_scale, seed, lr_schedule, warmup, min_lr, lr_step, lr_factor))

run_policy(; epochs = 1, checkpoint_dir = "checkpoints", eval_every = 0, eval_batches = 0, checkpoint_every = 0,
           patience = 0, keep_last = 0, keep_best = 1, log_every = 0) =
    CharLSTM.check(CharLSTM.RunPolicy(; epochs, checkpoint_dir, eval_every, eval_batches, checkpoint_every, patience,
                                      keep_last, keep_best, log_every))

compute_settings(; context = "cpu", kvstore = :local, gradient_compression = :none, compression_threshold = 0.5) =
    CharLSTM.check(CharLSTM.ComputeSettings(; context, kvstore, gradient_compression, compression_threshold))

sample_settings(; length = 100, num_samples = 1, prime = "a", temperature = 1.0, top_k = 0, top_p = 1.0) =
    CharLSTM.check(CharLSTM.SampleSettings(; length, num_samples, prime, temperature, top_k, top_p))

"`CharLSTM.sample_text` of the checkpoint `path` with the tests' defaults for what `kwargs` leaves out."
sample_from(path; seed = nothing, kwargs...) =
    CharLSTM.sample_text(CharLSTM.TrainedModel(path), sample_settings(; kwargs...); seed = seed)

user_error(f) = try f(); nothing catch e; e isa PyJLChar.UserError ? e.msg : rethrow() end
quiet(f) = Base.CoreLogging.with_logger(f, Base.CoreLogging.NullLogger())

const FIXTURE_TEXT = "hello world\nthe quick brown fox jumps over the lazy dog\n"

"""
Writes `<dir>/ptb-0001.params` and `<dir>/ptb-meta.json` for a small LSTM (unrolled graph) with
random weights; returns (params_path, params, vocab, spec).
"""
function make_checkpoint(dir::AbstractString; layers = 2, hidden = 8, embed = 6, seed = 42)
    vocab = CharLSTM.build_vocabulary(FIXTURE_TEXT)
    spec = spec_for(CharLSTM.n_class(vocab); layers = layers, hidden = hidden, embed = embed)
    mx.srand(seed)
    # Weights larger than training's U(-0.1, 0.1), so the predictions are far from uniform.
    params = Dict(name => mx.rand!(mx.empty(shape), -1, 1) for (name, shape) in CharLSTM.parameter_shapes(spec))
    prefix = joinpath(dir, "ptb")
    path = mx.checkpoint_params_file(prefix, 1)
    mx.save(path, Dict("arg:$name" => arr for (name, arr) in params))
    meta = CharLSTM.RunMeta(vocab, spec, data_settings(), test_settings(), 1)
    CharLSTM.record_epoch!(meta, 1; train_nll = 3.0, val_nll = nothing, seconds = 0.5, graph = :unrolled)
    CharLSTM.write_meta(prefix, meta)
    return path, params, vocab, spec
end

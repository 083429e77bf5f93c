# What the char-lstm tests share: small models and settings, and a tiny checkpoint made by
# hand (random weights, a real vocabulary and a meta file). The defaults the commands use live
# in Python (pyjlchar/config.py); these are the tests' own.

spec_for(n_class; layers = 2, hidden = 8, embed = 6, dropout = 0.0, cell = :lstm, name = :ptb) =
    PyJLChar.ModelSpec(; name, layers, hidden, embed, n_class, dropout, cell)

test_settings(; corpus = "test", train_ratio = 0.9, seq_len = 4, batch_size = 2, optimizer = :adam,
              learning_rate = 0.01, weight_decay = 0.0, grad_clip = 0.0, init_scale = 0.1, seed = 1,
              lr_schedule = :constant, warmup = 0, min_lr = 0.0, lr_step = 1000, lr_factor = 0.5) =
    PyJLChar.TrainSettings(; corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate, weight_decay,
                           grad_clip, init_scale, seed, lr_schedule, warmup, min_lr, lr_step, lr_factor)

"`PyJLChar.sample_text` of the checkpoint `path` with the tests' defaults for what `kwargs` leaves out."
sample_from(path; kwargs...) =
    PyJLChar.sample_text(PyJLChar.TrainedModel(path);
                         merge((length = 100, temperature = 1.0, top_k = 0, top_p = 1.0, prime = "a", seed = nothing,
                                num_samples = 1), kwargs)...)

const FIXTURE_TEXT = "hello world\nthe quick brown fox jumps over the lazy dog\n"

"""
Writes `<dir>/ptb-0001.params` and `<dir>/ptb-meta.json` for a small LSTM with random
weights; returns (params_path, params, vocab, spec).
"""
function make_checkpoint(dir::AbstractString; layers = 2, hidden = 8, embed = 6, seed = 42)
    vocab = PyJLChar.build_vocabulary(FIXTURE_TEXT)
    spec = spec_for(PyJLChar.n_class(vocab); layers = layers, hidden = hidden, embed = embed)
    mx.srand(seed)
    # Weights larger than training's U(-0.1, 0.1), so the predictions are far from uniform.
    params = Dict(name => mx.rand!(mx.empty(shape), -1, 1) for (name, shape) in PyJLChar.parameter_shapes(spec))
    prefix = joinpath(dir, "ptb")
    path = mx.checkpoint_params_file(prefix, 1)
    mx.save(path, Dict("arg:$name" => arr for (name, arr) in params))
    meta = PyJLChar.new_meta(vocab, spec, test_settings())
    PyJLChar.record_epoch!(meta, 1; train_nll = 3.0, val_nll = nothing, seconds = 0.5, cell = :lstm)
    PyJLChar.write_meta(prefix, meta)
    return path, params, vocab, spec
end

# A tiny checkpoint made by hand: random weights, a real vocabulary and a meta file.

const FIXTURE_TEXT = "hello world\nthe quick brown fox jumps over the lazy dog\n"

"""
Writes `<dir>/ptb-0001.params` and `<dir>/ptb-meta.json` for a small LSTM with random
weights; returns (params_path, params, vocab, spec).
"""
function make_checkpoint(dir::AbstractString; n_layer = 2, hidden = 8, embed = 6, seed = 42)
    vocab = PyJLChar.build_vocabulary(FIXTURE_TEXT)
    spec = PyJLChar.ModelSpec(:ptb, n_layer, hidden, embed, PyJLChar.n_class(vocab), 0.0)
    mx.srand(seed)
    # Weights larger than training's U(-0.1, 0.1), so the predictions are far from uniform.
    params = Dict(name => mx.rand!(mx.empty(shape), -1, 1) for (name, shape) in PyJLChar.parameter_shapes(spec))
    prefix = joinpath(dir, "ptb")
    path = mx.checkpoint_params_file(prefix, 1)
    mx.save(path, Dict("arg:$name" => arr for (name, arr) in params))
    meta = PyJLChar.new_meta(vocab, spec, Dict("seq_len" => 4, "batch_size" => 2))
    PyJLChar.record_epoch!(meta, 1; train_nll = 3.0, val_nll = nothing, seconds = 0.5)
    PyJLChar.write_meta(prefix, meta)
    return path, params, vocab, spec
end

"""
The commands Python calls: train, load_model, sample, evaluate, evaluate_text, open_stream,
stream_next, free, corpus_info, graph, bench_train, bench_sample, system_info.
pyjlchar/charlstm.py names them and passes the settings that pyjlchar/config.py validated
(where every default lives) as flat keywords, all required. This is the one place where those
keywords become the char-lstm's types (`ModelSpec`, `TrainSettings`, devices, cells) and where
the bridge's hooks (progress events, Ctrl-C) are handed to the work. A loaded model and a text
stream stay in Julia, kept by the bridge under a handle that Python passes back (`free` ends it).
"""
module Commands

using ..PyJLChar
using ..PyJLChar: ModelSpec, TrainSettings, RunPolicy, Hooks, UserError, mx
import ..Bridge

const BRIDGE_HOOKS = Hooks(progress = Bridge.emit, poll = Bridge.poll)

"A device from Python's [\"cpu\", 0] / [\"gpu\", 1] form; a UserError for one this libmxnet lacks."
function device(pair::AbstractVector)
    kind, id = pair
    ctx = kind == "gpu" ? mx.gpu(id) : kind == "cpu" ? mx.cpu(id) : throw(ArgumentError("not a device: $pair"))
    try
        return mx.check_available(ctx)
    catch e
        e isa mx.MXError || rethrow()
        throw(UserError(e.msg))   # already says what to install instead
    end
end

"A cell Python names (\"lstm\" or \"fused\"), or `nothing` for a checkpoint's own."
as_cell(name::AbstractString) = Symbol(name)
as_cell(::Nothing) = nothing

"Corpus files as Julia strings (JSON lists arrive as Vector{Any})."
paths(files::AbstractVector) = String[f for f in files]

model(; name, layers, hidden, embed, dropout, cell) =
    (name = Symbol(name), layers = layers, hidden = hidden, embed = embed, dropout = dropout, cell = Symbol(cell))

"""
    train(; corpus_files, corpus_cache, corpus, train_ratio, name, layers, hidden, embed, dropout,
          cell, seq_len, batch_size, optimizer, learning_rate, weight_decay, grad_clip, init_scale,
          seed, lr_schedule, warmup, min_lr, lr_step, lr_factor, epochs, checkpoint_dir, context,
          kvstore, gradient_compression, compression_threshold, eval_every, checkpoint_every,
          eval_batches, patience, keep_last, keep_best, log_every, resume, allow_new_text) -> Dict

`pyjlchar train`: PyJLChar.train_model on the text in `corpus_files` (encoded into the cache
folder `corpus_cache`; `corpus` is what the user named), on the devices in `context` (a list
of pairs), `gradient_compression` "none" or "2bit". Returns the run's "meta" and its "best"
checkpoint file (`nothing` for a worker that writes no files).
"""
function train(; corpus_files, corpus_cache, corpus, train_ratio, name, layers, hidden, embed, dropout, cell,
               seq_len, batch_size, optimizer, learning_rate, weight_decay, grad_clip, init_scale, seed,
               lr_schedule, warmup, min_lr, lr_step, lr_factor, epochs, checkpoint_dir, context, kvstore,
               gradient_compression, compression_threshold, eval_every, checkpoint_every, eval_batches, patience,
               keep_last, keep_best, log_every, resume, allow_new_text)
    settings = TrainSettings(; corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate,
                             weight_decay, grad_clip, init_scale, seed, lr_schedule, warmup, min_lr, lr_step,
                             lr_factor)
    policy = RunPolicy(eval_every, checkpoint_every, eval_batches, patience, keep_last, keep_best, log_every)
    meta = PyJLChar.train_model(model(; name, layers, hidden, embed, dropout, cell), settings, paths(corpus_files),
                                corpus_cache;
                                epochs = epochs, checkpoint_dir = checkpoint_dir, contexts = device.(context),
                                kvstore = Symbol(kvstore),
                                compression = gradient_compression == "none" ? nothing :
                                              (type = gradient_compression, threshold = compression_threshold),
                                policy = policy, resume = resume, allow_new_text = allow_new_text,
                                hooks = BRIDGE_HOOKS)
    prefix = joinpath(checkpoint_dir, name)
    best = isfile(PyJLChar.meta_path(prefix)) ? PyJLChar.checkpoint_file(prefix) : nothing
    return Dict{String,Any}("meta" => meta, "best" => best)
end

"""
    load_model(; checkpoint, context, cell) -> Dict

Loads `checkpoint` (a .params file or a run's prefix: its best checkpoint) to run as `cell`
("lstm" or "fused") on `context`, and keeps it: returns its "handle", the "checkpoint" file
loaded, the run's "prefix", its "meta" (vocabulary, model, settings, history) and its "spec"
as `cell` runs it.
"""
function load_model(; checkpoint, context, cell)
    loaded = PyJLChar.TrainedModel(PyJLChar.checkpoint_file(checkpoint); cell = as_cell(cell),
                                   context = device(context))
    return Dict{String,Any}("handle" => Bridge.keep(loaded), "checkpoint" => loaded.path,
                            "prefix" => PyJLChar.checkpoint_prefix(loaded.path), "meta" => loaded.meta,
                            "spec" => PyJLChar.spec_dict(loaded.spec))
end

"""
    sample(; model, length, temperature, top_k, top_p, prime, num_samples, seed) -> Vector{String}

`pyjlchar sample`: `num_samples` texts from the loaded `model` (a handle).
"""
sample(; model, length, temperature, top_k, top_p, prime, num_samples, seed) =
    PyJLChar.sample_text(Bridge.kept(model); length = length, temperature = temperature, top_k = top_k,
                         top_p = top_p, prime = prime, seed = seed, num_samples = num_samples, hooks = BRIDGE_HOOKS)

"""
    open_stream(; model, prime, temperature, top_k, top_p, seed) -> Dict

A stream of text from the loaded `model`, primed, kept under the returned "handle";
`stream_next` draws from it.
"""
open_stream(; model, prime, temperature, top_k, top_p, seed) =
    Dict{String,Any}("handle" => Bridge.keep(PyJLChar.open_stream(Bridge.kept(model); prime = prime,
                                                                  temperature = temperature, top_k = top_k,
                                                                  top_p = top_p, seed = seed, hooks = BRIDGE_HOOKS)))

"The next `length` characters of the text `stream` (a handle), its state carried."
stream_next(; stream, length) = PyJLChar.next_text!(Bridge.kept(stream), length, BRIDGE_HOOKS)

"Lets go of loaded models and streams (their handles)."
free(; handles) = Bridge.release(handles)

"""
    evaluate(; model, text_files, corpus_cache, streams) -> Dict

`pyjlchar eval`: scores the text in `text_files` (encoded into `corpus_cache`) as `streams`
pieces side by side, with the loaded `model` (a handle).
"""
evaluate(; model, text_files, corpus_cache, streams) =
    PyJLChar.evaluate_corpus(Bridge.kept(model),
                             PyJLChar.encoded_corpus(paths(text_files), corpus_cache; what = "text file",
                                                     hooks = BRIDGE_HOOKS);
                             streams = streams, hooks = BRIDGE_HOOKS)

"`evaluate` for a `text` given as it is, in memory."
evaluate_text(; model, text, streams) =
    PyJLChar.evaluate_text(Bridge.kept(model), text; streams = streams, hooks = BRIDGE_HOOKS)

"`pyjlchar corpus info`: what the text in `corpus_files` holds, encoded into `corpus_cache`."
corpus_info(; corpus_files, corpus_cache, train_ratio) =
    PyJLChar.corpus_summary(PyJLChar.encoded_corpus(paths(corpus_files), corpus_cache; hooks = BRIDGE_HOOKS),
                            train_ratio)

"`pyjlchar visualize`: the graph of the model, `steps` long, with shapes for `batch` streams."
graph(; name, layers, hidden, embed, dropout, cell, n_class, steps, batch) =
    PyJLChar.lstm_graph(ModelSpec(; name, layers, hidden, embed, dropout, cell, n_class), steps, batch)

"`pyjlchar bench`: training throughput on the text in `corpus_files`, as `train` trains, on the devices in `context`."
function bench_train(; corpus_files, corpus_cache, corpus, train_ratio, name, layers, hidden, embed, dropout, cell, seq_len,
                     batch_size, optimizer, learning_rate, weight_decay, grad_clip, init_scale, seed, lr_schedule,
                     warmup, min_lr, lr_step, lr_factor, seconds, warmup_batches, validate, context, profile)
    settings = TrainSettings(; corpus, train_ratio, seq_len, batch_size, optimizer, learning_rate,
                             weight_decay, grad_clip, init_scale, seed, lr_schedule, warmup, min_lr, lr_step,
                             lr_factor)
    return PyJLChar.bench_train(model(; name, layers, hidden, embed, dropout, cell), settings, paths(corpus_files),
                                corpus_cache;
                                seconds = seconds, warmup_batches = warmup_batches, validate = validate,
                                contexts = device.(context), profile = profile, hooks = BRIDGE_HOOKS)
end

"`pyjlchar bench`: sampling throughput of a model with random weights, on the device `context`."
bench_sample(; name, layers, hidden, embed, dropout, cell, n_class, streams, seconds, init_scale, context) =
    PyJLChar.bench_sample(ModelSpec(; name, layers, hidden, embed, dropout, cell, n_class);
                          streams = streams, seconds = seconds, init_scale = init_scale, context = device(context),
                          hooks = BRIDGE_HOOKS)

"""
    ps_node(; kvstore)

This process as the scheduler or a server of a parameter-server job (its DMLC_ROLE) until the
workers finish; it loads no data. Ctrl-C stops it.
"""
ps_node(; kvstore) = mx.run_server(mx.KVStore(kvstore))

"`pyjlchar doctor`: the Julia side and the libmxnet build."
system_info() = PyJLChar.system_info()

end # module

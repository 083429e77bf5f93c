"""
The commands Python calls (pyjlchar/commands.py names them): train, load_model, sample,
open_stream, stream_next, free, evaluate, evaluate_text, corpus_info, graph, bench_train,
bench_sample, ps_node, system_info.

Settings arrive as the sections pyjlchar/settings.py defines ("data", "model", "train", "run",
"compute", "sample"), each made into its CharLSTM struct by `from_section`; a command's own
keywords (the corpus files Python resolved, a handle, a seed) come beside them. Every keyword
is required: the defaults live in Python. This is also where the bridge's hooks (progress
events, Ctrl-C) are handed to the work. A loaded model and a text stream stay in Julia, kept by
the bridge under a handle that Python passes back (`free` ends it).
"""
module Commands

import ..PyJLChar
using ..PyJLChar: CharLSTM, mx
using ..CharLSTM: from_section, DataSettings, ModelSpec, TrainSettings, RunPolicy, ComputeSettings, SampleSettings,
                  Hooks, meta_dict, section_dict
import ..Bridge

const BRIDGE_HOOKS = Hooks(progress = Bridge.emit, poll = Bridge.poll)

"Corpus files as Julia strings (JSON lists arrive as Vector{Any})."
paths(files::AbstractVector) = String[f for f in files]

"The one device of a context (sampling and scoring run on the first it names)."
first_device(context::AbstractString) = first(CharLSTM.devices(context))

"""
    train(; data, model, train, run, compute, corpus_files, corpus_cache, resume, allow_new_text) -> Dict

`pyjlchar train`: CharLSTM.train_model on the text in `corpus_files` (encoded into the cache
folder `corpus_cache`; `data`'s corpus is what the user named). Returns the run's "meta" and
its "best" checkpoint file (`nothing` for a worker that writes no files).
"""
function train(; data, model, train, run, compute, corpus_files, corpus_cache, resume, allow_new_text)
    policy = from_section(RunPolicy, run)
    meta = CharLSTM.train_model(model, from_section(DataSettings, data), from_section(TrainSettings, train), policy,
                                from_section(ComputeSettings, compute), paths(corpus_files), corpus_cache;
                                resume = resume, allow_new_text = allow_new_text, hooks = BRIDGE_HOOKS)
    prefix = joinpath(policy.checkpoint_dir, model["name"])
    best = isfile(CharLSTM.meta_path(prefix)) ? CharLSTM.checkpoint_file(prefix) : nothing
    return Dict{String,Any}("meta" => meta_dict(meta), "best" => best)
end

"""
    load_model(; checkpoint, context, graph) -> Dict

Loads `checkpoint` (a .params file or a run's prefix: its best checkpoint) to run by `graph`
("unrolled" or "fused") on the first device of `context`, and keeps it: returns its "handle",
the "checkpoint" file loaded, the run's "prefix", its "meta" and its "spec" as `graph` runs it.
"""
function load_model(; checkpoint, context, graph)
    loaded = CharLSTM.TrainedModel(CharLSTM.checkpoint_file(checkpoint); graph = Symbol(graph),
                                   context = first_device(context))
    return Dict{String,Any}("handle" => Bridge.keep(loaded), "checkpoint" => loaded.path,
                            "prefix" => CharLSTM.checkpoint_prefix(loaded.path), "meta" => meta_dict(loaded.meta),
                            "spec" => section_dict(loaded.spec))
end

"`pyjlchar sample`: the [sample] section's texts from the loaded model `handle`."
sample(; handle, sample, seed) =
    CharLSTM.sample_text(Bridge.kept(handle), from_section(SampleSettings, sample); seed = seed, hooks = BRIDGE_HOOKS)

"A stream of text from the loaded model `handle`, primed, kept under the returned \"handle\"; `stream_next` draws from it."
open_stream(; handle, sample, seed) =
    Dict{String,Any}("handle" => Bridge.keep(CharLSTM.open_stream(Bridge.kept(handle), from_section(SampleSettings, sample);
                                                                  seed = seed, hooks = BRIDGE_HOOKS)))

"The next `length` characters of the text stream `handle`, its state carried."
stream_next(; handle, length) = CharLSTM.next_text!(Bridge.kept(handle), length, BRIDGE_HOOKS)

"Lets go of loaded models and streams (their handles)."
free(; handles) = Bridge.release(handles)

"""
    evaluate(; handle, text_files, corpus_cache, streams) -> Dict

`pyjlchar eval`: scores the text in `text_files` (encoded into `corpus_cache`) as `streams`
pieces side by side, with the loaded model `handle`.
"""
evaluate(; handle, text_files, corpus_cache, streams) =
    CharLSTM.evaluate_corpus(Bridge.kept(handle),
                             CharLSTM.encoded_corpus(paths(text_files), corpus_cache; what = "text file",
                                                     hooks = BRIDGE_HOOKS);
                             streams = streams, hooks = BRIDGE_HOOKS)

"`evaluate` for a `text` given as it is, in memory."
evaluate_text(; handle, text, streams) =
    CharLSTM.evaluate_text(Bridge.kept(handle), text; streams = streams, hooks = BRIDGE_HOOKS)

"`pyjlchar corpus info`: what the text in `corpus_files` holds, encoded into `corpus_cache`, split as `data` says."
corpus_info(; data, corpus_files, corpus_cache) =
    CharLSTM.corpus_summary(CharLSTM.encoded_corpus(paths(corpus_files), corpus_cache; hooks = BRIDGE_HOOKS),
                            from_section(DataSettings, data).train_ratio)

"`pyjlchar visualize`: the graph of the [model] section predicting `n_class` classes, `steps` long, with shapes for `batch` streams."
graph(; model, n_class, steps, batch) = CharLSTM.lstm_graph(from_section(ModelSpec, model; n_class = n_class), steps, batch)

"`pyjlchar bench`: training throughput on the text in `corpus_files`, as `train` trains."
bench_train(; data, model, train, compute, corpus_files, corpus_cache, seconds, warmup_batches, validate, profile) =
    CharLSTM.bench_train(model, from_section(DataSettings, data), from_section(TrainSettings, train),
                         from_section(ComputeSettings, compute), paths(corpus_files), corpus_cache;
                         seconds = seconds, warmup_batches = warmup_batches, validate = validate, profile = profile,
                         hooks = BRIDGE_HOOKS)

"`pyjlchar bench`: sampling throughput of the [model] with random weights U(±init_scale), on the first device of `context`."
bench_sample(; model, n_class, streams, seconds, init_scale, context) =
    CharLSTM.bench_sample(from_section(ModelSpec, model; n_class = n_class); streams = streams, seconds = seconds,
                          init_scale = init_scale, context = first_device(context), hooks = BRIDGE_HOOKS)

"""
    ps_node(; compute)

This process as the scheduler or a server of a parameter-server job (its DMLC_ROLE) until the
workers finish; it loads no data. Ctrl-C stops it.
"""
ps_node(; compute) = mx.run_server(mx.KVStore(from_section(ComputeSettings, compute).kvstore))

"`pyjlchar doctor`: the Julia side and the libmxnet build."
system_info() = PyJLChar.system_info()

end # module

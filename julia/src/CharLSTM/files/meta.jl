# A run's meta file, `<prefix>-meta.json`: what the params files alone cannot say (vocabulary,
# model, settings, history), so that a checkpoint can be sampled or resumed on its own. This
# file is the only one that reads or writes it: everything else holds a `RunMeta`.
#
# The file, a JSON object (format 2; format 1, written before the model had a `graph`, still reads):
#   "format":        "pyjlchar-checkpoint/2"
#   "vocab":         the known characters as one-character strings, in class-id order
#   "unknown_class": the class id of characters outside the vocabulary (= length of vocab)
#   "model":         the ModelSpec's fields: name, cell, graph, layers, hidden, embed, dropout, n_class
#   "data":          the DataSettings' fields: corpus (as the user named it), train_ratio
#   "train":         the TrainSettings' fields: the course, which `--resume` keeps
#   "epochs":        the number of epochs asked for
#   "history":       [{"epoch", "train_nll", "val_nll" (null without validation), "seconds",
#                    "graph" (the graph that trained it), "pruned" (true once its files are deleted)}]
#   "epoch":         the last complete epoch saved (0 before the first)
#   "partial":       (when stopped mid-epoch) {"epoch", "batches_done", "train_nll", "seconds",
#                    "graph", "file" (only for a mid-epoch checkpoint)}: what `--resume` continues;
#                    its files are `<prefix>-<epoch>.*`, or `<file>.*` next to the meta
#   "checkpoints":   the mid-epoch checkpoints kept (checkpoint_every): [{"epoch", "batch",
#                    "file", "train_nll", "val_nll" (null when not validated there)}], files
#                    `<prefix>-EEEE-BBBBBB.params` and `.states`
#   "validations":   {"best_val_nll", "since_best"}: what early stopping (patience) counts
#   "stopped_early": {"epoch", "batch", "best_val_nll", "patience"} when it stopped the run
#   "corpus_identity": {"characters", "sha256"} of the training text, which `--resume` checks

const CHECKPOINT_FORMAT = "pyjlchar-checkpoint/2"
const READABLE_FORMATS = ("pyjlchar-checkpoint/1", CHECKPOINT_FORMAT)

meta_path(prefix::AbstractString) = string(prefix, "-meta.json")

"One complete epoch of the run's history."
mutable struct EpochRecord
    epoch::Int
    train_nll::Float64
    val_nll::Union{Float64,Nothing}
    seconds::Float64
    graph::Symbol
    pruned::Bool   # its files were deleted (keep_last)
end

"The epoch in progress that `--resume` continues; its files are named by `file` (a mid-epoch checkpoint's) or by the epoch."
struct PartialEpoch
    epoch::Int
    batches_done::Int
    train_nll::Union{Float64,Nothing}   # nothing in files from before it was recorded
    seconds::Union{Float64,Nothing}
    graph::Symbol
    file::Union{String,Nothing}
end

"A mid-epoch checkpoint kept (checkpoint_every)."
struct IntervalCheckpoint
    epoch::Int
    batch::Int
    file::String
    train_nll::Float64
    val_nll::Union{Float64,Nothing}
end

"""
The validations of a run so far: the best NLL and how many came after it, so that patience
carries over a resume.
"""
mutable struct ValidationRecord
    best::Float64
    since_best::Int
end

"Why the run stopped before its last epoch."
struct EarlyStopRecord
    epoch::Int
    batch::Int
    best_val_nll::Float64
    patience::Int
end

"""
    RunMeta

A run as its meta file records it: vocabulary, model, the settings of its data and course,
the epochs asked for, its history and where it stands (see the top of this file).
"""
mutable struct RunMeta
    vocab::Vocabulary
    model::ModelSpec
    data::DataSettings
    train::TrainSettings
    epochs::Int
    history::Vector{EpochRecord}
    epoch::Int
    partial::Union{PartialEpoch,Nothing}
    checkpoints::Vector{IntervalCheckpoint}
    validations::ValidationRecord
    stopped_early::Union{EarlyStopRecord,Nothing}
    corpus_identity::Union{CorpusIdentity,Nothing}
end

"""
    RunMeta(vocab, model, data, train, epochs) -> RunMeta

The meta of a run before its first epoch.
"""
function RunMeta(vocab::Vocabulary, model::ModelSpec, data::DataSettings, train::TrainSettings, epochs::Int)
    n_class(vocab) == model.n_class ||
        throw(ArgumentError("the model predicts $(model.n_class) classes, the vocabulary has $(n_class(vocab))"))
    return RunMeta(vocab, model, data, train, epochs, EpochRecord[], 0, nothing, IntervalCheckpoint[],
                   ValidationRecord(Inf, 0), nothing, nothing)
end

"""
Adds an epoch's results to the history and makes it the last saved epoch. A run resumed from
an earlier epoch overwrites that epoch's checkpoints onwards, so their entries go.
"""
function record_epoch!(meta::RunMeta, epoch::Integer; train_nll::Real, val_nll::Union{Real,Nothing}, seconds::Real,
                       graph::Symbol)
    filter!(entry -> entry.epoch < epoch, meta.history)
    push!(meta.history, EpochRecord(epoch, train_nll, val_nll, seconds, graph, false))
    meta.epoch = epoch
    return meta
end

# ----- the file --------------------------------------------------------------------------------

record_dict(x) = Dict{String,Any}(string(f) => (v = getfield(x, f); v isa Symbol ? String(v) : v)
                                  for f in fieldnames(typeof(x)) if getfield(x, f) !== nothing || f == :val_nll)

"""
    meta_dict(meta) -> Dict

The meta as its file holds it (and as Python sees it).
"""
function meta_dict(meta::RunMeta)
    d = Dict{String,Any}(
        "format" => CHECKPOINT_FORMAT,
        "vocab" => vocab_to_list(meta.vocab),
        "unknown_class" => Int(unknown_class(meta.vocab)),
        "model" => section_dict(meta.model),
        "data" => section_dict(meta.data),
        "train" => section_dict(meta.train),
        "epochs" => meta.epochs,
        "history" => [Dict{String,Any}("epoch" => h.epoch, "train_nll" => h.train_nll, "val_nll" => h.val_nll,
                                       "seconds" => h.seconds, "graph" => String(h.graph),
                                       (h.pruned ? ("pruned" => true,) : ())...) for h in meta.history],
        "epoch" => meta.epoch,
        "validations" => Dict{String,Any}("best_val_nll" => meta.validations.best,
                                          "since_best" => meta.validations.since_best))
    meta.partial === nothing || (d["partial"] = record_dict(meta.partial))
    isempty(meta.checkpoints) || (d["checkpoints"] = [record_dict(c) for c in meta.checkpoints])
    meta.stopped_early === nothing || (d["stopped_early"] = record_dict(meta.stopped_early))
    meta.corpus_identity === nothing || (d["corpus_identity"] = record_dict(meta.corpus_identity))
    return d
end

"""
    write_meta(prefix, meta)

Writes `<prefix>-meta.json` atomically: a crash mid-write leaves the previous file intact.
"""
write_meta(prefix::AbstractString, meta::RunMeta) =
    mx.write_atomically(temp -> mx.write_checked(temp, sprint(io -> JSON.write_json(io, meta_dict(meta); indent = 2))),
                        meta_path(prefix))

"""
    read_meta(path) -> RunMeta

Reads and checks a meta file: a UserError when it is missing, unreadable, not pyjlchar's, or
holds a field of the wrong kind or out of its rule.
"""
const MAX_META_BYTES = 64 * 2^20

function read_meta(path::AbstractString)
    isfile(path) ||
        throw(UserError("the checkpoint's meta file $path is missing: keep it next to the " *
                        ".params files (it holds the vocabulary and the architecture)"))
    # A meta file that pyjlchar wrote holds a line per epoch and checkpoint: far less than this.
    filesize(path) <= MAX_META_BYTES ||
        throw(UserError("the meta file $path is $(filesize(path) ÷ 2^20) MiB, more than any run's meta file " *
                        "($(MAX_META_BYTES ÷ 2^20) MiB at most): it is not one pyjlchar wrote; use the meta " *
                        "file saved with the checkpoint"))
    d = try
        JSON.parse_json(read(path, String))
    catch e
        e isa JSON.JSONError || rethrow()
        throw(UserError("the meta file $path is corrupt ($(sprint(showerror, e))): restore it " *
                        "from a backup or train again"))
    end
    d isa AbstractDict && get(d, "format", nothing) in READABLE_FORMATS ||
        throw(UserError("$path is not a pyjlchar checkpoint meta file (no \"format\": " *
                        "\"$CHECKPOINT_FORMAT\"): use a checkpoint written by pyjlchar"))
    try
        return meta_from_dict(d, d["format"] == CHECKPOINT_FORMAT)
    catch e
        e isa UserError && throw(UserError("the meta file $path is damaged: $(e.msg); restore it from a backup " *
                                           "or train again"))
        e isa Union{KeyError,MethodError,InexactError,ArgumentError,TypeError} || rethrow()
        throw(UserError("the meta file $path is damaged ($(damage(e))): restore it from a backup or train again"))
    end
end

damage(e::KeyError) = "it lacks \"$(e.key)\""
damage(e) = "a field holds a value of the wrong kind"

# Format 1 named the graph "cell" ("lstm": the unrolled graph, "fused": the RNN operator, both
# LSTMs) and kept the data settings among the course's.
legacy_graph(name::AbstractString) = name == "fused" ? :fused : name == "lstm" ? :unrolled : Symbol(name)
graph_named_in(entry::AbstractDict, current::Bool) = current ? Symbol(entry["graph"]) : legacy_graph(entry["cell"])

function meta_from_dict(d::AbstractDict, current::Bool)
    model = copy(d["model"])
    current || (model["graph"] = legacy_graph(model["cell"]); model["cell"] = "lstm")
    train = Dict{String,Any}(k => v for (k, v) in d["train"] if k in string.(fieldnames(TrainSettings)))
    data = current ? d["data"] : Dict{String,Any}(k => d["train"][k] for k in ("corpus", "train_ratio"))
    n = model["n_class"]
    model_spec = from_section(ModelSpec, Dict{String,Any}(k => v for (k, v) in model if k != "n_class"); n_class = n)
    vocab = vocab_from_list(d["vocab"])
    n_class(vocab) == model_spec.n_class || throw(UserError("its vocabulary does not match the model's n_class"))
    real_or_nothing(x) = x === nothing ? nothing : Float64(x)
    history = [EpochRecord(h["epoch"], h["train_nll"], real_or_nothing(h["val_nll"]), get(h, "seconds", 0.0),
                           graph_named_in(h, current), get(h, "pruned", false))
               for h in d["history"]::AbstractVector]
    p = get(d, "partial", nothing)
    partial = p === nothing ? nothing :
        PartialEpoch(p["epoch"], p["batches_done"], real_or_nothing(get(p, "train_nll", nothing)),
                     real_or_nothing(get(p, "seconds", nothing)),
                     haskey(p, current ? "graph" : "cell") ? graph_named_in(p, current) : model_spec.graph,
                     safe_file(get(p, "file", nothing)))
    checkpoints = [IntervalCheckpoint(c["epoch"], c["batch"], safe_file(c["file"]), c["train_nll"],
                                      real_or_nothing(c["val_nll"])) for c in get(d, "checkpoints", Any[])]
    v = get(d, "validations", nothing)
    # No validation yet: the best is Inf, which JSON writes as null.
    validations = v === nothing ? ValidationRecord(Inf, 0) :
                  ValidationRecord(something(v["best_val_nll"], Inf), v["since_best"])
    s = get(d, "stopped_early", nothing)
    stopped = s === nothing ? nothing : EarlyStopRecord(s["epoch"], s["batch"], s["best_val_nll"], s["patience"])
    c = get(d, "corpus_identity", nothing)
    identity = c === nothing ? nothing : CorpusIdentity(c["characters"], c["sha256"])
    epochs = current ? d["epochs"] : get(d["train"], "epochs", d["epoch"])
    return RunMeta(vocab, model_spec, from_section(DataSettings, data), from_section(TrainSettings, train), epochs,
                   history, d["epoch"], partial, checkpoints, validations, stopped, identity)
end

# A file name a meta names must be a plain name in the run's folder: never a path elsewhere.
function safe_file(name)
    name === nothing && return nothing
    name isa String && !isempty(name) && basename(name) == name && name != "." && name != ".." ||
        throw(UserError("it names the file $(repr(name)), which is not a plain file name in the run's folder"))
    return name
end

# A checkpoint is `<prefix>-symbol.json`, one `<prefix>-%04d.params` per saved epoch, and
# `<prefix>-meta.json`: what the params files alone cannot say (vocabulary, architecture,
# settings, history), so that a checkpoint can be sampled or resumed on its own.
#
# The meta file, a JSON object:
#   "format":        "pyjlchar-checkpoint/1"
#   "vocab":         the known characters as one-character strings, in class-id order
#   "unknown_class": the class id of characters outside the vocabulary (= length of vocab)
#   "model":         the ModelSpec's fields: {"name", "layers", "hidden", "embed", "dropout",
#                    "cell", "n_class"}, cell "lstm" (unrolled) or "fused" (the RNN operator)
#   "train":         the TrainSettings' fields and "epochs", the number of epochs asked for
#   "history":       [{"epoch", "train_nll", "val_nll" (null without validation), "seconds",
#                    "cell" (the graph that trained it), "pruned" (true once its files are deleted)}]
#   "epoch":         the last complete epoch saved (0 before the first)
#   "partial":       (when stopped mid-epoch) {"epoch", "batches_done", "train_nll", "seconds",
#                    "cell", "file" (only for a mid-epoch checkpoint)}: what `--resume` continues;
#                    its files are `<prefix>-<epoch>.*`, or `<file>.*` next to the meta
#   "checkpoints":   the mid-epoch checkpoints kept (checkpoint_every): [{"epoch", "batch",
#                    "file", "train_nll", "val_nll" (null when not validated there)}], files
#                    `<prefix>-EEEE-BBBBBB.params` and `.states`
#   "validations":   {"best_val_nll", "since_best"}: what early stopping (patience) counts
#   "stopped_early": {"epoch", "batch", "best_val_nll", "patience"} when it stopped the run
#   "corpus_identity": {"characters", "sha256"} of the training text, which `--resume` checks

const CHECKPOINT_FORMAT = "pyjlchar-checkpoint/1"

meta_path(prefix::AbstractString) = string(prefix, "-meta.json")

# Checkpoint files by name without extension: an epoch's (mx.checkpoint_params_file's name) and
# a mid-epoch one's.
epoch_stem(prefix::AbstractString, epoch::Integer) = string(prefix, "-", lpad(epoch, 4, "0"))
interval_stem(prefix::AbstractString, epoch::Integer, batch::Integer) =
    string(epoch_stem(prefix, epoch), "-", lpad(batch, 6, "0"))

"The files a checkpoint's name (without extension) stands for."
checkpoint_files(stem::AbstractString) = (string(stem, ".params"), string(stem, ".states"))

"""
    new_meta(vocab, spec, settings) -> Dict

The meta of a checkpoint before its first epoch.
"""
function new_meta(vocab::Vocabulary, spec::ModelSpec, settings::TrainSettings)
    n_class(vocab) == spec.n_class ||
        throw(ArgumentError("the model predicts $(spec.n_class) classes, the vocabulary has $(n_class(vocab))"))
    return Dict{String,Any}(
        "format" => CHECKPOINT_FORMAT,
        "vocab" => vocab_to_list(vocab),
        "unknown_class" => Int(unknown_class(vocab)),
        "model" => spec_dict(spec),
        "train" => settings_dict(settings),
        "history" => Any[],
        "epoch" => 0)
end

"""
Adds an epoch's results to the meta's history and makes it the last saved epoch. A run
resumed from an earlier epoch overwrites that epoch's checkpoints onwards, so their entries go.
"""
function record_epoch!(meta::AbstractDict, epoch::Integer; train_nll::Real,
                       val_nll::Union{Real,Nothing}, seconds::Real, cell::Symbol)
    filter!(entry -> entry["epoch"] < epoch, meta["history"])
    push!(meta["history"], Dict{String,Any}("epoch" => epoch, "train_nll" => train_nll,
                                            "val_nll" => val_nll, "seconds" => seconds, "cell" => String(cell)))
    meta["epoch"] = epoch
    return meta
end

"""
    write_meta(prefix, meta)

Writes `<prefix>-meta.json` atomically: a crash mid-write leaves the previous file intact.
"""
write_meta(prefix::AbstractString, meta::AbstractDict) =
    mx.write_atomically(temp -> mx.write_checked(temp, sprint(io -> JSON.write_json(io, meta; indent = 2))),
                        meta_path(prefix))

"""
    read_meta(path) -> Dict

Reads and checks a meta file (UserError when it is missing, unreadable or not pyjlchar's).
"""
function read_meta(path::AbstractString)
    isfile(path) ||
        throw(UserError("the checkpoint's meta file $path is missing: keep it next to the " *
                        ".params files (it holds the vocabulary and the architecture)"))
    meta = try
        JSON.parse_json(read(path, String))
    catch e
        e isa JSON.JSONError || rethrow()
        throw(UserError("the meta file $path is corrupt ($(sprint(showerror, e))): restore it " *
                        "from a backup or train again"))
    end
    meta isa AbstractDict && get(meta, "format", nothing) == CHECKPOINT_FORMAT ||
        throw(UserError("$path is not a pyjlchar checkpoint meta file (no \"format\": " *
                        "\"$CHECKPOINT_FORMAT\"): use a checkpoint written by pyjlchar"))
    damaged(what) = UserError("the meta file $path lacks a valid $what: restore it from a backup or train again")
    for (key, type) in ("vocab" => AbstractVector, "model" => AbstractDict, "train" => AbstractDict,
                        "history" => AbstractVector, "epoch" => Integer)
        get(meta, key, nothing) isa type || throw(damaged("\"$key\""))
    end
    for entry in meta["history"]
        entry isa AbstractDict && get(entry, "epoch", nothing) isa Integer &&
            get(entry, "train_nll", nothing) isa Real && get(entry, "val_nll", nothing) isa Union{Real,Nothing} ||
            throw(damaged("\"history\" (each entry an object with an integer \"epoch\" and numbers " *
                          "\"train_nll\" and \"val_nll\")"))
    end
    partial = get(meta, "partial", nothing)
    partial === nothing || partial isa AbstractDict && get(partial, "epoch", nothing) isa Integer &&
        get(partial, "batches_done", nothing) isa Integer && get(partial, "file", "") isa String ||
        throw(damaged("\"partial\""))
    checkpoints = get(meta, "checkpoints", Any[])
    checkpoints isa AbstractVector && all(c -> c isa AbstractDict && get(c, "epoch", nothing) isa Integer &&
                                               get(c, "batch", nothing) isa Integer && get(c, "file", nothing) isa String &&
                                               get(c, "val_nll", nothing) isa Union{Real,Nothing}, checkpoints) ||
        throw(damaged("\"checkpoints\" (each entry an object with integers \"epoch\" and \"batch\", a string " *
                      "\"file\" and a number or null \"val_nll\")"))
    return meta
end

"The meta's vocabulary."
meta_vocab(meta::AbstractDict; source::AbstractString = "the meta file") =
    vocab_from_list(meta["vocab"]; source = source)

"The meta's architecture."
function model_spec(meta::AbstractDict; source::AbstractString = "the meta file")
    model = meta["model"]
    field(key, type) = get(model, key, nothing) isa type ? model[key] :
        throw(UserError("the \"model\" of $source lacks a valid \"$key\": restore it from a backup or train again"))
    cell = field("cell", String)
    cell in String.(CELLS) ||
        throw(UserError("$source describes a \"$cell\" model, which this version does not know: " *
                        "use a checkpoint with cell \"lstm\" or \"fused\""))
    return ModelSpec(; name = field("name", String), layers = field("layers", Integer),
                     hidden = field("hidden", Integer), embed = field("embed", Integer),
                     n_class = field("n_class", Integer), dropout = field("dropout", Real), cell = cell)
end

# Shapes as libmxnet (and Python's mx.nd.load) shows them: Julia sizes reversed.
shape_text(julia_size) = string("(", join(reverse(collect(julia_size)), ", "), ")")

"""
    load_trained(params_path; cell=nothing) -> (meta, spec, arg_params::Dict{Symbol,NDArray})

A trained model from `<prefix>-NNNN.params` and the `<prefix>-meta.json` next to it, as the
`cell` model (`:lstm` or `:fused`; `nothing`: the checkpoint's own), converted if need be.
Every failure a user can cause (missing, corrupt or mismatched files) is a UserError.
"""
function load_trained(params_path::AbstractString; cell::Union{Symbol,Nothing} = nothing)
    isfile(params_path) ||
        throw(UserError("the checkpoint $params_path does not exist: check the path " *
                        "(checkpoints are named <prefix>-NNNN.params)"))
    prefix = checkpoint_prefix(params_path)
    prefix === nothing &&
        throw(UserError("$params_path is not named like a checkpoint (<prefix>-NNNN.params or " *
                        "<prefix>-NNNN-BBBBBB.params), so its meta file cannot be found: give the path " *
                        "of a pyjlchar checkpoint"))
    meta_file = meta_path(prefix)
    meta = read_meta(meta_file)
    spec = model_spec(meta; source = meta_file)
    n_class(meta_vocab(meta; source = meta_file)) == spec.n_class ||
        throw(UserError("the meta file $meta_file is inconsistent (its vocabulary does not match " *
                        "the model's n_class): restore it from a backup or train again"))
    arg_params = load_params(params_path)
    # The cell that wrote the file, which may not be the meta's (a run can change cells).
    spec = with_cell(spec, haskey(arg_params, Symbol(spec.name, "_lstm_parameters")) ? :fused : :lstm)
    check_architecture(arg_params, spec, params_path)
    cell === nothing && return meta, spec, arg_params
    return meta, with_cell(spec, cell), convert_cell(arg_params, spec, cell)
end

# The run prefix of an epoch's file (<prefix>-NNNN.params) or a mid-epoch one
# (<prefix>-NNNN-BBBBBB.params): the one whose meta file exists, as a name may hold digits too.
function checkpoint_prefix(params_path::AbstractString)
    for pattern in (r"^(.*)-\d{4,}-\d{6,}\.params$", r"^(.*)-\d{4,}\.params$")
        m = match(pattern, params_path)
        m !== nothing && isfile(meta_path(m.captures[1])) && return String(m.captures[1])
    end
    m = match(r"^(.*)-\d{4,}\.params$", params_path)
    return m === nothing ? nothing : String(m.captures[1])   # its missing meta is then the message
end

# The learned arguments of a .params file (saved as `arg:<name>`), by name.
function load_params(path::AbstractString)
    saved = try
        mx.load(path, mx.NDArray)
    catch e
        e isa mx.MXError || rethrow()
        throw(UserError("the checkpoint $path is corrupt or truncated: use another epoch's checkpoint"))
    end
    saved isa AbstractDict ||
        throw(UserError("$path holds unnamed arrays, not a checkpoint's parameters: use a checkpoint written by pyjlchar"))
    return Dict(Symbol(String(name)[5:end]) => arr for (name, arr) in saved if startswith(String(name), "arg:"))
end

function check_architecture(arg_params::AbstractDict, spec::ModelSpec, path::AbstractString)
    expected = parameter_shapes(spec)
    for (name, shape) in expected
        haskey(arg_params, name) ||
            throw(UserError("$path lacks parameter $name $(shape_text(shape)) that its meta file's " *
                            "model needs: checkpoint of a different architecture; use the meta " *
                            "file saved with it"))
        size(arg_params[name]) == shape ||
            throw(UserError("$path has parameter $name of shape $(shape_text(size(arg_params[name]))) " *
                            "but its meta file's model needs $(shape_text(shape)): checkpoint of a " *
                            "different architecture; use the meta file saved with it"))
    end
    extra = setdiff(keys(arg_params), first.(expected))
    isempty(extra) ||
        throw(UserError("$path has parameter $(first(sort!(collect(extra)))) that its meta file's " *
                        "model lacks: checkpoint of a different architecture; use the meta file saved with it"))
end

"""
    checkpoint_file(given) -> String

The `.params` file meant by `given`: that file, or for a run's prefix (`checkpoints/ptb`)
the checkpoint with the best validation NLL in its meta file, of an epoch or mid-epoch (the
last epoch if none was validated, the interrupted epoch if no epoch is complete yet).
"""
function checkpoint_file(given::AbstractString)
    if endswith(given, ".params")
        isfile(given) ||
            throw(UserError("checkpoint $given does not exist: check the path, or pass the run's " *
                            "prefix (such as checkpoints/ptb) to use its best epoch"))
        return given
    end
    isfile(meta_path(given)) ||
        throw(UserError("no checkpoint at $given ($(meta_path(given)) is missing): pass a .params file or " *
                        "the prefix of a training run, such as checkpoints/ptb"))
    meta = read_meta(meta_path(given))
    saved = saved_checkpoints(meta, given)
    if isempty(saved)
        haskey(meta, "partial") && return first(checkpoint_files(partial_stem(meta, given)))
        throw(UserError("the run at $given has saved no epoch yet: train it first"))
    end
    scored = filter(c -> c.val_nll !== nothing, saved)
    best = isempty(scored) ? last(saved) : scored[argmin([c.val_nll for c in scored])]
    return first(checkpoint_files(best.stem))
end

"""
    saved_checkpoints(meta, prefix) -> Vector of (epoch, batch, val_nll, stem, history_entry)

The run's checkpoints whose files are kept, oldest first: complete epochs (batch `typemax`,
`history_entry` their history entry) and mid-epoch ones (`history_entry` nothing).
"""
function saved_checkpoints(meta::AbstractDict, prefix::AbstractString)
    folder = dirname(prefix)
    epochs = [(epoch = h["epoch"], batch = typemax(Int), val_nll = h["val_nll"],
               stem = epoch_stem(prefix, h["epoch"]), history_entry = h)
              for h in meta["history"] if !get(h, "pruned", false)]
    mid = [(epoch = c["epoch"], batch = c["batch"], val_nll = c["val_nll"], stem = joinpath(folder, c["file"]),
            history_entry = nothing) for c in get(meta, "checkpoints", Any[])]
    return Base.sort!([epochs; mid]; by = c -> (c.epoch, c.batch))
end

"The name (without extension) of the files of the meta's partial epoch."
partial_stem(meta::AbstractDict, prefix::AbstractString) =
    haskey(meta["partial"], "file") ? joinpath(dirname(prefix), meta["partial"]["file"]) :
    epoch_stem(prefix, meta["partial"]["epoch"])

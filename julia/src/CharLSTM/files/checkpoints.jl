# A run's checkpoints: `<prefix>-symbol.json`, `<prefix>-NNNN.params` (and `.states`) per saved
# epoch, `<prefix>-NNNN-BBBBBB.*` inside an epoch, and the meta file that names them.

# Checkpoint files by name without extension: an epoch's (mx.checkpoint_params_file's name) and
# a mid-epoch one's.
epoch_stem(prefix::AbstractString, epoch::Integer) = string(prefix, "-", lpad(epoch, 4, "0"))
interval_stem(prefix::AbstractString, epoch::Integer, batch::Integer) =
    string(epoch_stem(prefix, epoch), "-", lpad(batch, 6, "0"))

"The files a checkpoint's name (without extension) stands for."
checkpoint_files(stem::AbstractString) = (string(stem, ".params"), string(stem, ".states"))

# Shapes as libmxnet (and Python's mx.nd.load) shows them: Julia sizes reversed.
shape_text(julia_size) = string("(", join(reverse(collect(julia_size)), ", "), ")")

"""
    load_trained(params_path; graph=nothing) -> (meta, spec, arg_params::Dict{Symbol,NDArray})

A trained model from `<prefix>-NNNN.params` and the `<prefix>-meta.json` next to it, as the
`graph` model (`:unrolled` or `:fused`; `nothing`: the file's own), converted if need be.
Every failure a user can cause (missing, corrupt or mismatched files) is a UserError.
"""
function load_trained(params_path::AbstractString; graph::Union{Symbol,Nothing} = nothing)
    isfile(params_path) ||
        throw(UserError("the checkpoint $params_path does not exist: check the path " *
                        "(checkpoints are named <prefix>-NNNN.params)"))
    prefix = checkpoint_prefix(params_path)
    prefix === nothing &&
        throw(UserError("$params_path is not named like a checkpoint (<prefix>-NNNN.params or " *
                        "<prefix>-NNNN-BBBBBB.params), so its meta file cannot be found: give the path " *
                        "of a pyjlchar checkpoint"))
    meta = read_meta(meta_path(prefix))
    arg_params = load_params(params_path)
    # The graph that wrote the file, which may not be the meta's (a run can change graphs).
    spec = with_graph(meta.model, written_graph(arg_params, meta.model))
    check_architecture(arg_params, spec, params_path)
    graph === nothing && return meta, spec, arg_params
    return meta, with_graph(spec, graph), convert_graph(arg_params, spec, graph)
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
        meta.partial === nothing || return first(checkpoint_files(partial_stem(meta, given)))
        throw(UserError("the run at $given has saved no epoch yet: train it first"))
    end
    scored = filter(c -> c.val_nll !== nothing, saved)
    best = isempty(scored) ? last(saved) : scored[argmin([c.val_nll for c in scored])]
    return first(checkpoint_files(best.stem))
end

"""
    saved_checkpoints(meta, prefix) -> Vector of (epoch, batch, val_nll, stem, history_entry)

The run's checkpoints whose files are kept, oldest first: complete epochs (batch `typemax`,
`history_entry` their EpochRecord) and mid-epoch ones (`history_entry` nothing).
"""
function saved_checkpoints(meta::RunMeta, prefix::AbstractString)
    folder = dirname(prefix)
    epochs = [(epoch = h.epoch, batch = typemax(Int), val_nll = h.val_nll, stem = epoch_stem(prefix, h.epoch),
               history_entry = h) for h in meta.history if !h.pruned]
    mid = [(epoch = c.epoch, batch = c.batch, val_nll = c.val_nll, stem = joinpath(folder, c.file),
            history_entry = nothing) for c in meta.checkpoints]
    return Base.sort!([epochs; mid]; by = c -> (c.epoch, c.batch))
end

"The name (without extension) of the files of the meta's partial epoch."
partial_stem(meta::RunMeta, prefix::AbstractString) =
    meta.partial.file !== nothing ? joinpath(dirname(prefix), meta.partial.file) :
    epoch_stem(prefix, meta.partial.epoch)

# What steers a long run besides its course (RunPolicy, the [run] settings): how often it
# validates, saves and logs, when it stops early, and which checkpoints it keeps. Intervals
# count batches of the whole epoch (all the workers of a job together); 0 means only at the end
# of each epoch, which always validates on all of the validation text and saves.

"Whether the run's batch count passing from `before` to `now` reached a multiple of `every` (> 0)."
reached(every::Int, before::Int, now::Int) = every > 0 && before ÷ every < now ÷ every

"Counts a validation: whether `patience` validations in a row have now failed to beat the best."
function count!(r::ValidationRecord, val_nll::Float64, patience::Int)
    if val_nll < r.best
        r.best, r.since_best = val_nll, 0
    else
        r.since_best += 1
    end
    return patience > 0 && r.since_best >= patience
end

"""
The run stopped early: `patience` validations in a row did not beat the best NLL. At the end
of an epoch (whose checkpoint is saved) or inside one.
"""
struct EarlyStop <: Exception
    epoch::Int
    batch::Int
    at_epoch_end::Bool
    best::Float64
    patience::Int
end

# ----- the metrics log -------------------------------------------------------------------------

log_path(prefix::AbstractString) = string(prefix, "-log.jsonl")

"""
    append_log(prefix, fields)

Appends one line, a JSON object, to the run's metrics log: a resumed run goes on in the same
file (its lines for batches already logged come again, and the later ones count).
"""
append_log(prefix::AbstractString, fields::AbstractDict) =
    open(io -> println(io, JSON.json(fields)), log_path(prefix), "a")

# ----- which checkpoints stay -----------------------------------------------------------------

"""
    prune!(meta, prefix, policy)

Deletes the files of the checkpoints `policy` does not keep: all but the `keep_last` latest
(nothing with keep_last 0) and the `keep_best` with the lowest validation NLL, and never those
`--resume` continues from (the partial epoch's, or the last complete epoch's). The meta, which
then no longer names them, is written before any file goes.
"""
function prune!(meta::RunMeta, prefix::AbstractString, policy::RunPolicy)
    policy.keep_last == 0 && return
    saved = saved_checkpoints(meta, prefix)
    keep = Set{String}(c.stem for c in saved[max(end - policy.keep_last + 1, 1):end])
    scored = Base.sort(filter(c -> c.val_nll !== nothing, saved); by = c -> c.val_nll)
    foreach(c -> push!(keep, c.stem), scored[1:min(policy.keep_best, end)])
    push!(keep, meta.partial !== nothing ? partial_stem(meta, prefix) : epoch_stem(prefix, meta.epoch))
    gone = filter(c -> !(c.stem in keep), saved)
    isempty(gone) && return
    for c in gone
        c.history_entry === nothing || (c.history_entry.pruned = true)
    end
    filter!(c -> joinpath(dirname(prefix), c.file) in keep, meta.checkpoints)
    write_meta(prefix, meta)
    for c in gone, file in checkpoint_files(c.stem)
        rm(file; force = true)
    end
end

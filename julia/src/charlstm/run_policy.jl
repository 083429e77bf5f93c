# What steers a long run besides its course (TrainSettings): how often it validates, saves and
# logs, when it stops early, and which checkpoints it keeps. A resumed run may change any of it.

"""
    RunPolicy(; eval_every, checkpoint_every, eval_batches, patience, keep_last, keep_best, log_every)

Intervals count batches of the whole epoch (all the workers of a job together). Every
`eval_every` batches the run validates on `eval_batches` batches spread evenly over the
validation text (0: all of them); every `checkpoint_every` batches it saves a checkpoint;
0 means only at the end of each epoch, which always validates on all of the text and saves.
After `patience` validations in a row without a better NLL the run stops (0: never). Of its
checkpoints it keeps the `keep_last` latest (0: all) and the `keep_best` best. Every
`log_every` batches (0: never) a line goes to the metrics log, `<prefix>-log.jsonl`.
"""
struct RunPolicy
    eval_every::Int
    checkpoint_every::Int
    eval_batches::Int
    patience::Int
    keep_last::Int
    keep_best::Int
    log_every::Int
    function RunPolicy(eval_every, checkpoint_every, eval_batches, patience, keep_last, keep_best, log_every)
        min(eval_every, checkpoint_every, eval_batches, patience, keep_last, log_every) >= 0 && keep_best >= 1 ||
            throw(ArgumentError("not a valid run policy: eval_every $eval_every, checkpoint_every " *
                                "$checkpoint_every, eval_batches $eval_batches, patience $patience, keep_last " *
                                "$keep_last, keep_best $keep_best, log_every $log_every"))
        return new(eval_every, checkpoint_every, eval_batches, patience, keep_last, keep_best, log_every)
    end
end
RunPolicy(; eval_every = 0, checkpoint_every = 0, eval_batches = 0, patience = 0, keep_last = 0, keep_best = 1,
          log_every = 0) =
    RunPolicy(eval_every, checkpoint_every, eval_batches, patience, keep_last, keep_best, log_every)

"Whether the run's batch count passing from `before` to `now` reached a multiple of `every` (> 0)."
reached(every::Int, before::Int, now::Int) = every > 0 && before ÷ every < now ÷ every

"""
    SampledData(provider, n)

`n` batches of `provider` spread evenly over one pass (all of them when `n` is 0 or more than
there are): a quick validation that still sees the whole validation text's variety.
"""
struct SampledData <: CharSeqPass
    inner::CharSeqProvider
    n::Int
end
function mx.eachbatch(p::SampledData)
    batches = mx.eachbatch(p.inner)
    total = length(batches)
    # The middle batch of each of n equal stretches.
    picks = p.n == 0 || p.n >= total ? (1:total) : [ceil(Int, (i - 0.5) * total / p.n) for i in 1:p.n]
    return (iterate(batches, k)[1] for k in picks)
end

"""
The validations of a run so far: the best NLL and how many came after it. The meta keeps it
(as "validations"), so that patience carries over a resume.
"""
mutable struct ValidationRecord
    best::Float64
    since_best::Int
end
ValidationRecord(meta::AbstractDict) =
    haskey(meta, "validations") ? ValidationRecord(meta["validations"]["best_val_nll"], meta["validations"]["since_best"]) :
    ValidationRecord(Inf, 0)

"Counts a validation: whether `patience` validations in a row have now failed to beat the best."
function count!(r::ValidationRecord, val_nll::Float64, patience::Int)
    if val_nll < r.best
        r.best, r.since_best = val_nll, 0
    else
        r.since_best += 1
    end
    return patience > 0 && r.since_best >= patience
end

record!(meta::AbstractDict, r::ValidationRecord) =
    meta["validations"] = Dict{String,Any}("best_val_nll" => r.best, "since_best" => r.since_best)

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
function prune!(meta::AbstractDict, prefix::AbstractString, policy::RunPolicy)
    policy.keep_last == 0 && return
    saved = saved_checkpoints(meta, prefix)
    keep = Set{String}(c.stem for c in saved[max(end - policy.keep_last + 1, 1):end])
    scored = Base.sort(filter(c -> c.val_nll !== nothing, saved); by = c -> c.val_nll)
    foreach(c -> push!(keep, c.stem), scored[1:min(policy.keep_best, end)])
    push!(keep, haskey(meta, "partial") ? partial_stem(meta, prefix) : epoch_stem(prefix, meta["epoch"]))
    gone = filter(c -> !(c.stem in keep), saved)
    isempty(gone) && return
    for c in gone
        c.history_entry === nothing || (c.history_entry["pruned"] = true)
    end
    filter!(c -> joinpath(dirname(prefix), c["file"]) in keep, get(meta, "checkpoints", Any[]))
    write_meta(prefix, meta)
    for c in gone, file in checkpoint_files(c.stem)
        rm(file; force = true)
    end
end

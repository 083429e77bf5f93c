@testset "long runs: schedules, intervals, early stopping, pruning, the metrics log" begin
    model = model_section()
    root = mktempdir()
    corpus = joinpath(root, "corpus.txt")
    write(corpus, repeat(FIXTURE_TEXT, 30))
    n = CharLSTM.n_batches(CharLSTM.train_size(30 * length(FIXTURE_TEXT), 0.9), 4, 8)   # an epoch's batches
    @test n > 40
    # The file of the checkpoint after run step s (an epoch's end, or inside one).
    file_at(s) = s % n == 0 ? "ptb-000$(s ÷ n).params" : "ptb-000$(s ÷ n + 1)-$(lpad(s % n, 6, "0")).params"
    train(folder, settings; epochs, policy = NamedTuple(), kw...) =
        quiet(() -> CharLSTM.train_model(model, data_settings(), settings,
                                         run_policy(; epochs = epochs, checkpoint_dir = joinpath(root, folder), policy...),
                                         compute_settings(), [corpus], joinpath(root, "corpora"); kw...))
    read_log(folder) = [JSON.parse_json(line) for line in eachline(joinpath(root, folder, "ptb-log.jsonl"))]
    params(path) = Dict(k => copy(v) for (k, v) in CharLSTM.load_params(path))
    scheduled = test_settings(seq_len = 8, batch_size = 4, lr_schedule = :cosine, warmup = 5, min_lr = 0.001)

    # (make_optimizer's schedules: test_schedule.jl)
    @testset "reached, and patience counted over validations" begin
        @test CharLSTM.reached(5, 4, 5) && !CharLSTM.reached(5, 5, 9) && CharLSTM.reached(5, 9, 11)
        @test !CharLSTM.reached(0, 4, 5)   # 0: only at the end of each epoch
        r = CharLSTM.ValidationRecord(Inf, 0)
        @test [CharLSTM.count!(r, v, 2) for v in (3.0, 2.0, 2.5, 1.0, 1.5, 1.5)] == [false, false, false, false, false, true]
        @test r.best == 1.0 && r.since_best == 2
        @test !CharLSTM.count!(CharLSTM.ValidationRecord(1.0, 100), 2.0, 0)   # patience 0: never stop early
    end

    @testset "killed and interrupted runs resume to the same weights, schedule and validations included" begin
        whole = train("whole", scheduled; epochs = 2)
        @test length(whole.history) == 2
        policy = (eval_every = 7, checkpoint_every = 10, log_every = 5)
        stop_at(batch, e) = CharLSTM.Hooks(progress = (event; f...) ->
            event == "progress" && f[:epoch] == 1 && f[:batch] == batch && throw(e))
        # A crash at batch 25 saves nothing more: the checkpoint of batch 20 is what is left.
        @test_throws ErrorException train("stopped", scheduled; epochs = 2, policy = policy,
                                          hooks = stop_at(25, ErrorException("killed")))
        prefix = joinpath(root, "stopped", "ptb")
        meta = CharLSTM.read_meta(CharLSTM.meta_path(prefix))
        @test meta.partial.file == "ptb-0001-000020" && meta.partial.batches_done == 20
        @test [(c.epoch, c.batch) for c in meta.checkpoints] == [(1, 10), (1, 20)]
        # A mid-epoch checkpoint is a whole model: sampling loads it.
        @test isfile(prefix * "-0001-000020.params") && isfile(prefix * "-0001-000020.states")
        @test length(sample_from(prefix * "-0001-000020.params"; length = 5, seed = 1)[1]) == 6
        # Resumed, then stopped by Ctrl-C at batch 33 (saved as the epoch in progress), resumed again.
        @test_throws InterruptException train("stopped", scheduled; epochs = 2, policy = policy, resume = true,
                                              hooks = stop_at(33, InterruptException()))
        meta = train("stopped", scheduled; epochs = 2, policy = policy, resume = true)
        @test [h.epoch for h in meta.history] == [1, 2]
        for epoch in 1:2
            file(folder) = joinpath(root, folder, "ptb-000$epoch.params")
            @test params(file("whole")) == params(file("stopped"))   # bit for bit
        end
        @test [h.val_nll for h in meta.history] == [h.val_nll for h in whole.history]
        # The log: a training line every 5 batches, a validation line every 7 and after each epoch.
        lines = read_log("stopped")
        steps(f) = Base.sort(unique([l["step"] for l in lines if f(l)]))
        @test steps(l -> haskey(l, "train_nll")) == collect(5:5:2n)
        @test steps(l -> haskey(l, "val_nll")) == Base.sort([[s for s in 7:7:2n if s % n != 0]; n; 2n])
        last_line = [l for l in lines if haskey(l, "train_nll")][end]
        s = 5 * (2n ÷ 5)
        @test last_line["step"] == s && last_line["chars"] == s * 32 && last_line["batch"] == s - n
        @test last_line["lr"] ≈ mx.get_learning_rate(CharLSTM.make_optimizer(scheduled, 2n).lr_scheduler, s)
        @test last_line["chars_per_s"] > 0 && isfinite(last_line["train_nll"])
    end

    @testset "pruning keeps the latest, the best and what --resume needs" begin
        policy = (eval_every = 10, checkpoint_every = 10, keep_last = 2, keep_best = 1)
        meta = train("pruned", scheduled; epochs = 2, policy = policy)
        prefix = joinpath(root, "pruned", "ptb")
        on_disk = Base.sort(filter(f -> endswith(f, ".params"), readdir(joinpath(root, "pruned"))))
        # Every checkpoint was validated (at batches 10..40 and each epoch's end): the best of them stays.
        vals = [(l["step"], l["val_nll"]) for l in read_log("pruned") if haskey(l, "val_nll")]
        best_file = file_at(vals[argmin(last.(vals))][1])
        saved_steps = Base.sort([[s for s in 10:10:2n if s % n != 0]; n; 2n])
        @test first.(vals) == saved_steps
        @test on_disk == Base.sort(unique([file_at.(saved_steps[end-1:end]); best_file]))
        @test Base.sort(basename.(first.(CharLSTM.checkpoint_files.(c.stem for c in CharLSTM.saved_checkpoints(meta, prefix))))) == on_disk
        @test basename(CharLSTM.checkpoint_file(prefix)) == best_file
        @test meta.history[1].pruned == (best_file != "ptb-0001.params")
    end

    @testset "early stopping stops at the validation that runs out of patience" begin
        policy = (eval_every = 1, eval_batches = 1, patience = 2, checkpoint_every = 3)
        meta = train("early", test_settings(seq_len = 8, batch_size = 4, learning_rate = 0.05); epochs = 10,
                     policy = policy)
        vals = [l["val_nll"] for l in read_log("early") if haskey(l, "val_nll")]
        # Replaying the rule on the logged validations: where the second miss in a row came.
        best, misses, stop = Inf, 0, 0
        for (i, v) in enumerate(vals)
            v < best ? (best = v; misses = 0) : (misses += 1)
            misses == 2 && (stop = i; break)
        end
        @test stop == length(vals)
        @test meta.stopped_early.best_val_nll == best && meta.stopped_early.patience == 2
        # Its progress was saved: --resume continues from the batch it stopped at.
        saved = CharLSTM.read_meta(CharLSTM.meta_path(joinpath(root, "early", "ptb")))
        stopped = meta.stopped_early
        @test saved.stopped_early.batch == stopped.batch
        @test saved.partial !== nothing ? (saved.partial.epoch, saved.partial.batches_done) ==
                                          (stopped.epoch, stopped.batch) : saved.epoch == stopped.epoch
    end
end

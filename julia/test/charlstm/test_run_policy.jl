@testset "long runs: schedules, intervals, early stopping, pruning, the metrics log" begin
    quiet(f) = Base.CoreLogging.with_logger(f, Base.CoreLogging.NullLogger())
    model = (name = :ptb, layers = 1, hidden = 8, embed = 4, dropout = 0.0, cell = :lstm)
    root = mktempdir()
    corpus = joinpath(root, "corpus.txt")
    write(corpus, repeat(FIXTURE_TEXT, 30))
    n = PyJLChar.n_batches(PyJLChar.train_size(30 * length(FIXTURE_TEXT), 0.9), 4, 8)   # an epoch's batches
    @test n > 40
    # The file of the checkpoint after run step s (an epoch's end, or inside one).
    file_at(s) = s % n == 0 ? "ptb-000$(s ÷ n).params" : "ptb-000$(s ÷ n + 1)-$(lpad(s % n, 6, "0")).params"
    train(folder, settings; kw...) =
        quiet(() -> PyJLChar.train_model(model, settings, [corpus], joinpath(root, "corpora");
                                         checkpoint_dir = joinpath(root, folder), contexts = [mx.cpu()], kw...))
    read_log(folder) = [PyJLChar.JSON.parse_json(line) for line in eachline(joinpath(root, folder, "ptb-log.jsonl"))]
    params(path) = Dict(k => copy(v) for (k, v) in PyJLChar.load_params(path))
    scheduled = test_settings(seq_len = 8, batch_size = 4, lr_schedule = :cosine, warmup = 5, min_lr = 0.001)

    @testset "make_optimizer's schedules" begin
        lr(s, steps, t) = mx.get_learning_rate(PyJLChar.make_optimizer(s, steps).lr_scheduler, t)
        @test lr(test_settings(), 100, 50) == 0.01
        step = test_settings(lr_schedule = :step, lr_step = 10, lr_factor = 0.5, min_lr = 0.003)
        @test [lr(step, 100, t) for t in (1, 10, 11, 21, 31)] ≈ [0.01, 0.01, 0.005, 0.003, 0.003]
        cosine = test_settings(lr_schedule = :cosine, warmup = 10, min_lr = 0.001)
        @test lr(cosine, 110, 5) ≈ 0.005 && lr(cosine, 110, 11) ≈ 0.01 && lr(cosine, 110, 110) ≈ 0.001
        @test lr(test_settings(lr_schedule = :exponential, lr_step = 10, lr_factor = 0.5), 100, 6) ≈ 0.01 * 0.5^0.5
        @test PyJLChar.make_optimizer(test_settings(optimizer = :sgd), 10) isa mx.SGD
        @test_throws ArgumentError test_settings(min_lr = 0.02)
        @test_throws ArgumentError test_settings(warmup = -1)
        @test_throws ArgumentError PyJLChar.RunPolicy(keep_best = 0)
    end

    @testset "killed and interrupted runs resume to the same weights, schedule and validations included" begin
        whole = train("whole", scheduled; epochs = 2)
        @test length(whole["history"]) == 2
        policy = PyJLChar.RunPolicy(eval_every = 7, checkpoint_every = 10, log_every = 5)
        stop_at(batch, e) = PyJLChar.Hooks(progress = (event; f...) ->
            event == "progress" && f[:epoch] == 1 && f[:batch] == batch && throw(e))
        # A crash at batch 25 saves nothing more: the checkpoint of batch 20 is what is left.
        @test_throws ErrorException train("stopped", scheduled; epochs = 2, policy = policy,
                                          hooks = stop_at(25, ErrorException("killed")))
        prefix = joinpath(root, "stopped", "ptb")
        meta = PyJLChar.read_meta(PyJLChar.meta_path(prefix))
        @test meta["partial"]["file"] == "ptb-0001-000020" && meta["partial"]["batches_done"] == 20
        @test [(c["epoch"], c["batch"]) for c in meta["checkpoints"]] == [(1, 10), (1, 20)]
        # A mid-epoch checkpoint is a whole model: sampling loads it.
        @test isfile(prefix * "-0001-000020.params") && isfile(prefix * "-0001-000020.states")
        @test length(sample_from(prefix * "-0001-000020.params"; length = 5, seed = 1)[1]) == 6
        # Resumed, then stopped by Ctrl-C at batch 33 (saved as the epoch in progress), resumed again.
        @test_throws InterruptException train("stopped", scheduled; epochs = 2, policy = policy, resume = true,
                                              hooks = stop_at(33, InterruptException()))
        meta = train("stopped", scheduled; epochs = 2, policy = policy, resume = true)
        @test [h["epoch"] for h in meta["history"]] == [1, 2]
        for epoch in 1:2
            file(folder) = joinpath(root, folder, "ptb-000$epoch.params")
            @test params(file("whole")) == params(file("stopped"))   # bit for bit
        end
        @test [h["val_nll"] for h in meta["history"]] == [h["val_nll"] for h in whole["history"]]
        # The log: a training line every 5 batches, a validation line every 7 and after each epoch.
        lines = read_log("stopped")
        steps(f) = Base.sort(unique([l["step"] for l in lines if f(l)]))
        @test steps(l -> haskey(l, "train_nll")) == collect(5:5:2n)
        @test steps(l -> haskey(l, "val_nll")) == Base.sort([[s for s in 7:7:2n if s % n != 0]; n; 2n])
        last_line = [l for l in lines if haskey(l, "train_nll")][end]
        s = 5 * (2n ÷ 5)
        @test last_line["step"] == s && last_line["chars"] == s * 32 && last_line["batch"] == s - n
        @test last_line["lr"] ≈ mx.get_learning_rate(PyJLChar.make_optimizer(scheduled, 2n).lr_scheduler, s)
        @test last_line["chars_per_s"] > 0 && isfinite(last_line["train_nll"])
    end

    @testset "pruning keeps the latest, the best and what --resume needs" begin
        policy = PyJLChar.RunPolicy(eval_every = 10, checkpoint_every = 10, keep_last = 2, keep_best = 1)
        meta = train("pruned", scheduled; epochs = 2, policy = policy)
        prefix = joinpath(root, "pruned", "ptb")
        on_disk = Base.sort(filter(f -> endswith(f, ".params"), readdir(joinpath(root, "pruned"))))
        # Every checkpoint was validated (at batches 10..40 and each epoch's end): the best of them stays.
        vals = [(l["step"], l["val_nll"]) for l in read_log("pruned") if haskey(l, "val_nll")]
        best_file = file_at(vals[argmin(last.(vals))][1])
        saved_steps = Base.sort([[s for s in 10:10:2n if s % n != 0]; n; 2n])
        @test first.(vals) == saved_steps
        @test on_disk == Base.sort(unique([file_at.(saved_steps[end-1:end]); best_file]))
        @test Base.sort(basename.(first.(PyJLChar.checkpoint_files.(c.stem for c in PyJLChar.saved_checkpoints(meta, prefix))))) == on_disk
        @test basename(PyJLChar.checkpoint_file(prefix)) == best_file
        @test meta["history"][1]["pruned"] == (best_file != "ptb-0001.params")
    end

    @testset "early stopping stops at the validation that runs out of patience" begin
        policy = PyJLChar.RunPolicy(eval_every = 1, eval_batches = 1, patience = 2, checkpoint_every = 3)
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
        @test meta["stopped_early"]["best_val_nll"] == best && meta["stopped_early"]["patience"] == 2
        # Its progress was saved: --resume continues from the batch it stopped at.
        saved = PyJLChar.read_meta(PyJLChar.meta_path(joinpath(root, "early", "ptb")))
        stopped = meta["stopped_early"]
        @test haskey(saved, "partial") ? (saved["partial"]["epoch"], saved["partial"]["batches_done"]) ==
                                         (stopped["epoch"], stopped["batch"]) : saved["epoch"] == stopped["epoch"]
    end
end

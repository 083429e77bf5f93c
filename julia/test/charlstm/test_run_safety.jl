# What keeps a run's files usable and its errors plain when things go wrong.
@testset "run safety" begin
    user_error(f) = try f(); nothing catch e; e isa PyJLChar.UserError ? e.msg : rethrow() end
    quiet(f) = Base.CoreLogging.with_logger(f, Base.CoreLogging.NullLogger())

    @testset "resuming and sharding: the batches of the whole epoch, at once" begin
        vocab = PyJLChar.build_vocabulary(FIXTURE_TEXT)
        provider = PyJLChar.CharSeqProvider(repeat(FIXTURE_TEXT, 2), 2, 5, vocab, spec_for(PyJLChar.n_class(vocab)))
        labels(batches) = [copy(b.label[1]) for b in batches]
        whole = labels(mx.eachbatch(provider))
        n = length(whole)
        for (skip, rank, workers) in ((0, 0, 1), (4, 0, 1), (0, 0, 2), (0, 1, 2), (3, 1, 2), (5, 2, 3))
            data = PyJLChar.ResumedData(provider, skip, PyJLChar.Shard(rank, workers))
            # Whole rounds only: every worker of a job takes as many steps.
            round_end(from) = from + (n - from) ÷ workers * workers
            @test labels(mx.eachbatch(data)) == whole[skip+1+rank:workers:round_end(skip)]
            @test labels(mx.eachbatch(data)) == whole[1+rank:workers:round_end(0)]   # the next epoch
        end
        @test isodd(n)   # so that two workers leave one batch out
    end

    @testset "check_writable: found before any training" begin
        dir = mktempdir()
        PyJLChar.check_writable(joinpath(dir, "new", "folder"))
        @test isdir(joinpath(dir, "new", "folder")) && isempty(readdir(joinpath(dir, "new", "folder")))
        write(joinpath(dir, "a-file"), "x")
        @test occursin("a-file is a file", user_error(() -> PyJLChar.check_writable(joinpath(dir, "a-file", "sub"))))
        ro = joinpath(dir, "read-only")
        mkdir(ro)
        chmod(ro, 0o555)
        # root writes anywhere; the test means something only for other users
        if !(try; write(joinpath(ro, "probe"), ""); true; catch; false; end)
            @test occursin("cannot write checkpoints in $ro", user_error(() -> PyJLChar.check_writable(ro)))
        end
    end

    @testset "with_run_lock: one writer, a dead writer's lock taken over" begin
        prefix = joinpath(mktempdir(), "ptb")
        inside = PyJLChar.with_run_lock(prefix) do
            # A second writer, even in this process (flock is per open file), is refused.
            user_error(() -> PyJLChar.with_run_lock(() -> nothing, prefix))
        end
        @test occursin("another process (pid $(getpid())) is training the run at $prefix", inside)
        @test read(PyJLChar.lock_path(prefix), String) == ""   # released in order
        write(PyJLChar.lock_path(prefix), "999999999")         # left by a process that is gone
        @test PyJLChar.with_run_lock(() -> :ran, prefix) == :ran
    end

    @testset "memory estimate: a size that cannot fit is refused with the figure" begin
        settings = test_settings(seq_len = 32, batch_size = 32)
        small = spec_for(80; layers = 2, hidden = 256, embed = 256)
        @test 10 * 2^20 < PyJLChar.training_bytes(small, settings, 1) < Sys.total_memory() ÷ 4
        huge = spec_for(80; layers = 2, hidden = 100_000, embed = 256)
        msg = user_error(() -> PyJLChar.check_memory(huge, settings, 1))
        @test occursin("needs at least", msg) && occursin("GiB", msg) && occursin("lower hidden", msg)
    end

    @testset "the same text, or a new one only when asked, in the same vocabulary" begin
        dir = mktempdir()
        corpus(name, text) = (path = joinpath(dir, name); write(path, text);
                              quiet(() -> PyJLChar.encoded_corpus([path], joinpath(dir, "cache"))))
        vocab = PyJLChar.build_vocabulary("abc ")
        started = corpus("started.txt", "abc abc")
        meta = Dict{String,Any}("corpus_identity" => started.identity)
        PyJLChar.check_same_text!(meta, corpus("copy.txt", "abc abc"), vocab, false)   # the text, not the file
        check(name, text, allow) = user_error(() -> PyJLChar.check_same_text!(meta, corpus(name, text), vocab, allow))
        @test occursin("--allow-new-text", check("c.txt", "cab cab", false))
        @test occursin("lacks (\"x\")", check("x.txt", "abx", true))
        quiet(() -> PyJLChar.check_same_text!(meta, corpus("new.txt", "cab"), vocab, true))
        @test meta["corpus_identity"] == Dict("characters" => 3, "sha256" => bytes2hex(PyJLChar.SHA.sha256("cab")))
    end

    @testset "a checkpoint loads with the cell that wrote it, whatever the meta says" begin
        dir = mktempdir()
        path, params, vocab, spec = make_checkpoint(dir)
        meta = PyJLChar.read_meta(PyJLChar.meta_path(joinpath(dir, "ptb")))
        meta["model"]["cell"] = "fused"   # as after `train --resume --cell fused`
        PyJLChar.write_meta(joinpath(dir, "ptb"), meta)
        _, loaded_spec, loaded = PyJLChar.load_trained(path)
        @test loaded_spec.cell == :lstm && Set(keys(loaded)) == Set(keys(params))
        @test PyJLChar.load_trained(path; cell = :fused)[2].cell == :fused
    end

    @testset "a malformed meta history is one sentence" begin
        dir = mktempdir()
        make_checkpoint(dir)
        prefix = joinpath(dir, "ptb")
        good = read(PyJLChar.meta_path(prefix), String)
        for bad in ("\"history\": {}", "\"history\": [{\"train_nll\": 1.0, \"val_nll\": null}]",
                    "\"history\": [{\"epoch\": 1, \"train_nll\": 1.0, \"val_nll\": \"low\"}]")
            write(PyJLChar.meta_path(prefix), replace(good, r"\"history\": \[[^\]]*\]" => bad))
            @test occursin("lacks a valid \"history\"", user_error(() -> PyJLChar.checkpoint_file(prefix)))
        end
    end

    @testset "training: divergence stops without saving, the run's files stay loadable" begin
        dir = mktempdir()
        corpus = joinpath(dir, "corpus.txt")
        write(corpus, repeat(FIXTURE_TEXT, 30))
        model = (name = :ptb, layers = 1, hidden = 8, embed = 4, dropout = 0.0, cell = :lstm)
        train(settings; checkpoint_dir = dir, kw...) =
            quiet(() -> PyJLChar.train_model(model, settings, [corpus], joinpath(dir, "corpora");
                                             checkpoint_dir = checkpoint_dir, contexts = [mx.cpu()], kw...))
        meta = train(test_settings(seq_len = 8, batch_size = 4); epochs = 1)
        @test meta["epoch"] == 1 && meta["history"][1]["cell"] == "lstm"
        text = read(corpus, String)
        @test meta["corpus_identity"] ==
              Dict("characters" => length(text), "sha256" => bytes2hex(PyJLChar.SHA.sha256(text)))
        # Gradient compression belongs to a parameter-server job.
        @test_throws ArgumentError train(test_settings(seq_len = 8, batch_size = 4); epochs = 1,
                                         compression = (type = "2bit", threshold = 0.5))
        # A second fresh start over a run that saved an epoch is refused.
        @test occursin("already holds a run", user_error(() -> train(test_settings(seq_len = 8, batch_size = 4); epochs = 1)))
        # An absurd learning rate: the NLL turns NaN, nothing is saved, the message says what is kept.
        wild = joinpath(dir, "wild")
        msg = user_error(() -> train(test_settings(seq_len = 8, batch_size = 4, learning_rate = 1e30);
                                     epochs = 2, checkpoint_dir = wild))
        @test occursin("training diverged in epoch 1", msg) && occursin("no epoch was saved", msg)
        @test PyJLChar.read_meta(PyJLChar.meta_path(joinpath(wild, "ptb")))["epoch"] == 0
        @test !isfile(joinpath(wild, "ptb-0001.params"))
        # A run that saved no epoch may simply be started again.
        @test train(test_settings(seq_len = 8, batch_size = 4); epochs = 1, checkpoint_dir = wild)["epoch"] == 1
    end
end

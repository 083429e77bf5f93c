# A whole run: what keeps its files usable and its errors plain when things go wrong, and resuming.
@testset "train_model" begin
    @testset "training: divergence stops without saving, the run's files stay loadable" begin
        dir = mktempdir()
        corpus = joinpath(dir, "corpus.txt")
        write(corpus, repeat(FIXTURE_TEXT, 30))
        settings = test_settings(seq_len = 8, batch_size = 4)
        train(settings; checkpoint_dir = dir, epochs = 1, compute = compute_settings(), kw...) =
            quiet(() -> CharLSTM.train_model(model_section(), data_settings(), settings,
                                             run_policy(; epochs = epochs, checkpoint_dir = checkpoint_dir), compute,
                                             [corpus], joinpath(dir, "corpora"); kw...))
        meta = train(settings)
        @test meta.epoch == 1 && meta.history[1].graph == :unrolled && meta.model.graph == :unrolled
        text = read(corpus, String)
        @test meta.corpus_identity == CharLSTM.CorpusIdentity(length(text), bytes2hex(CharLSTM.SHA.sha256(text)))
        @test CharLSTM.read_meta(CharLSTM.meta_path(joinpath(dir, "ptb"))).epoch == 1
        # Gradient compression belongs to a parameter-server job.
        msg = user_error(() -> train(settings; compute = compute_settings(gradient_compression = Symbol("2bit"))))
        @test occursin("gradient_compression 2bit", msg) && occursin("dist_*", msg)
        # A second fresh start over a run that saved an epoch is refused.
        @test occursin("already holds a run", user_error(() -> train(settings)))
        # An absurd learning rate: the NLL turns NaN, nothing is saved, the message says what is kept.
        wild = joinpath(dir, "wild")
        msg = user_error(() -> train(test_settings(seq_len = 8, batch_size = 4, learning_rate = 1e30);
                                     epochs = 2, checkpoint_dir = wild))
        @test occursin("training diverged in epoch 1", msg) && occursin("no epoch was saved", msg)
        @test CharLSTM.read_meta(CharLSTM.meta_path(joinpath(wild, "ptb"))).epoch == 0
        @test !isfile(joinpath(wild, "ptb-0001.params"))
        # A run that saved no epoch may simply be started again.
        @test train(settings; checkpoint_dir = wild).epoch == 1
        # --resume needs a run; it keeps the run's course, and stops at the epochs asked for.
        fresh = joinpath(dir, "fresh")
        @test occursin("there is no run to resume", user_error(() -> train(settings; checkpoint_dir = fresh, resume = true)))
        @test train(settings; checkpoint_dir = fresh).epoch == 1
        msg = user_error(() -> train(test_settings(seq_len = 8, batch_size = 4, seed = 9); epochs = 2,
                                     checkpoint_dir = fresh, resume = true))
        @test occursin("--resume continues the saved run, which has seed = 1, not 9", msg)
        @test occursin("already trained 1 epochs", user_error(() -> train(settings; checkpoint_dir = fresh, resume = true)))
    end

    @testset "a run resumes in the other graph, its weights and optimizer converted" begin
        dir = mktempdir()
        corpus = joinpath(dir, "corpus.txt")
        write(corpus, repeat(FIXTURE_TEXT, 30))
        settings = test_settings(seq_len = 8, batch_size = 4)
        train(folder, graph, epochs; kw...) =
            quiet(() -> CharLSTM.train_model(model_section(graph = graph), data_settings(), settings,
                                             run_policy(; epochs = epochs, checkpoint_dir = joinpath(dir, folder)),
                                             compute_settings(), [corpus], joinpath(dir, "corpora"); kw...))
        whole = train("whole", "unrolled", 2)
        train("switched", "unrolled", 1)
        switched = train("switched", "fused", 2; resume = true)
        @test [h.graph for h in switched.history] == [:unrolled, :fused] && switched.model.graph == :fused
        @test isapprox(switched.history[2].train_nll, whole.history[2].train_nll; atol = 1e-4)
        @test isapprox(switched.history[2].val_nll, whole.history[2].val_nll; atol = 1e-4)
        # Each epoch's file in the layout of the graph that wrote it; both load as either.
        _, spec1, _ = CharLSTM.load_trained(joinpath(dir, "switched", "ptb-0001.params"))
        _, spec2, _ = CharLSTM.load_trained(joinpath(dir, "switched", "ptb-0002.params"))
        @test spec1.graph == :unrolled && spec2.graph == :fused
        @test CharLSTM.load_trained(joinpath(dir, "switched", "ptb-0002.params"); graph = :unrolled)[2].graph == :unrolled
    end

    @testset "a run of the old version ($run) resumes as it did" for run in ("lstm", "fused")
        legacy = normpath(joinpath(@__DIR__, "..", "..", "..", "..", "tests", "fixtures", "legacy"))
        expected = JSON.parse_json(read(joinpath(legacy, "expected.json"), String))["runs"][run]["resumed_epoch_3"]
        dir = mktempdir()
        folder = joinpath(dir, "run")
        cp(joinpath(legacy, run), folder)
        foreach(f -> chmod(joinpath(folder, f), 0o644), readdir(folder))
        old = CharLSTM.read_meta(CharLSTM.meta_path(joinpath(folder, "legacy")))
        model = Dict{String,Any}(CharLSTM.section_dict(old.model))
        delete!(model, "n_class")
        meta = quiet(() -> CharLSTM.train_model(model, old.data, old.train, run_policy(; epochs = 3, checkpoint_dir = folder),
                                                compute_settings(), [joinpath(legacy, "corpus.txt")],
                                                joinpath(dir, "corpora"); resume = true))
        @test meta.epoch == 3 && [h.epoch for h in meta.history] == [1, 2, 3]
        @test isapprox(meta.history[3].train_nll, expected["train_nll"]; atol = 1e-4)
        @test isapprox(meta.history[3].val_nll, expected["val_nll"]; atol = 1e-4)
        @test JSON.parse_json(read(CharLSTM.meta_path(joinpath(folder, "legacy")), String))["format"] ==
              "pyjlchar-checkpoint/2"
    end
end

@testset "bench" begin
    dir = mktempdir()
    corpus, cache = [joinpath(dir, "corpus.txt")], joinpath(dir, "corpora")
    write(corpus[1], repeat(FIXTURE_TEXT, 20))
    model(cell) = (name = :ptb, layers = 1, hidden = 8, embed = 4, dropout = 0.0, cell = cell)
    settings = test_settings(seq_len = 5, batch_size = 3)
    @testset "training for a wall-clock budget ($cell cell)" for cell in (:lstm, :fused)
        r = PyJLChar.bench_train(model(cell), settings, corpus, cache; seconds = 1.5, warmup_batches = 2, validate = true)
        @test r["batches"] > 2 && r["chars_per_s"] > 0 && isfinite(r["train_nll"]) && isfinite(r["val_nll"])
        @test PyJLChar.bench_train(model(cell), settings, corpus, cache; seconds = 0.5)["val_nll"] === nothing
    end
    @test PyJLChar.bench_train(model(:lstm), settings, corpus, cache; seconds = 0.0,
                               warmup_batches = 2)["batches"] == 3   # a figure, however short
    @testset "the budget, not the text, ends the pass" begin
        vocab = PyJLChar.build_vocabulary(FIXTURE_TEXT)
        spec = spec_for(PyJLChar.n_class(vocab); layers = 1, hidden = 4, embed = 4)
        provider = PyJLChar.CharSeqProvider(FIXTURE_TEXT, 2, 5, vocab, spec)
        n = PyJLChar.n_batches(provider)
        labels(batches) = [copy(b.label[1]) for b in batches]
        cycled = labels(Iterators.take(PyJLChar.BudgetedBatches(mx.eachbatch(provider), 600.0, 0), 2n + 1))
        @test cycled == [labels(mx.eachbatch(provider)); labels(mx.eachbatch(provider)); cycled[1:1]]
        @test isempty(collect(PyJLChar.BudgetedBatches(mx.eachbatch(provider), 0.0, 0)))
        @test length(collect(PyJLChar.BudgetedBatches(mx.eachbatch(provider), 0.0, n + 2))) == n + 2
    end
    @testset "sampling $streams stream(s)" for streams in (1, 4)
        r = PyJLChar.bench_sample(spec_for(10; layers = 1, hidden = 8, embed = 4, cell = :fused);
                                  streams = streams, seconds = 0.3, init_scale = 0.1)
        @test r["chars_per_s"] > 0 && r["streams"] == streams
    end
end

# Passes over a provider's batches in another order or number than one epoch's.
@testset "passes" begin
    vocab = CharLSTM.build_vocabulary(FIXTURE_TEXT)
    labels(batches) = [copy(b.label[1]) for b in batches]

    @testset "resuming and sharding: the batches of the whole epoch, at once" begin
        provider = CharLSTM.CharSeqProvider(repeat(FIXTURE_TEXT, 2), 2, 5, vocab, spec_for(CharLSTM.n_class(vocab)))
        whole = labels(mx.eachbatch(provider))
        n = length(whole)
        for (skip, rank, workers) in ((0, 0, 1), (4, 0, 1), (0, 0, 2), (0, 1, 2), (3, 1, 2), (5, 2, 3))
            data = CharLSTM.ResumedData(provider, skip, CharLSTM.Shard(rank, workers))
            # Whole rounds only: every worker of a job takes as many steps.
            round_end(from) = from + (n - from) ÷ workers * workers
            @test labels(mx.eachbatch(data)) == whole[skip+1+rank:workers:round_end(skip)]
            @test labels(mx.eachbatch(data)) == whole[1+rank:workers:round_end(0)]   # the next epoch
        end
        @test isodd(n)   # so that two workers leave one batch out
        @test CharLSTM.Shard(:local) == CharLSTM.Shard(0, 1)
    end

    @testset "a budget, not the text, ends the pass" begin
        spec = spec_for(CharLSTM.n_class(vocab); layers = 1, hidden = 4, embed = 4)
        provider = CharLSTM.CharSeqProvider(FIXTURE_TEXT, 2, 5, vocab, spec)
        n = CharLSTM.n_batches(provider)
        cycled = labels(Iterators.take(CharLSTM.BudgetedBatches(mx.eachbatch(provider), 600.0, 0), 2n + 1))
        @test cycled == [labels(mx.eachbatch(provider)); labels(mx.eachbatch(provider)); cycled[1:1]]
        @test isempty(collect(CharLSTM.BudgetedBatches(mx.eachbatch(provider), 0.0, 0)))
        @test length(collect(CharLSTM.BudgetedBatches(mx.eachbatch(provider), 0.0, n + 2))) == n + 2
        @test length(collect(mx.eachbatch(CharLSTM.BudgetedData(provider, 0.0, 3)))) == 3
    end

    @testset "a validation's sample: batches spread evenly over one pass" begin
        provider = CharLSTM.CharSeqProvider(repeat(FIXTURE_TEXT, 2), 2, 5, vocab, spec_for(CharLSTM.n_class(vocab)))
        whole = labels(mx.eachbatch(provider))
        n = length(whole)
        @test labels(mx.eachbatch(CharLSTM.SampledData(provider, 0))) == whole
        @test labels(mx.eachbatch(CharLSTM.SampledData(provider, n + 5))) == whole
        @test labels(mx.eachbatch(CharLSTM.SampledData(provider, 1))) == [whole[cld(n, 2)]]
        picks = [ceil(Int, (i - 0.5) * n / 3) for i in 1:3]
        @test labels(mx.eachbatch(CharLSTM.SampledData(provider, 3))) == whole[picks] && allunique(picks)
    end
end

@testset "CharSeqProvider (batches)" begin
    alphabet = join('a':'z')
    vocab = CharLSTM.build_vocabulary(alphabet)
    provider(text; batch_size = 2, seq_len = 3) =
        CharLSTM.CharSeqProvider(text, batch_size, seq_len, vocab, spec_for(27; hidden = 4, embed = 5))

    @testset "names and sizes match the LSTM's inputs" begin
        p = provider(alphabet)
        @test mx.provide_data(p) == [:ptb_data_1 => (27, 2), :ptb_data_2 => (27, 2), :ptb_data_3 => (27, 2),
                                     :ptb_l1_init_c => (4, 2), :ptb_l2_init_c => (4, 2),
                                     :ptb_l1_init_h => (4, 2), :ptb_l2_init_h => (4, 2)]
        @test mx.provide_label(p) == [:ptb_label_1 => (2,), :ptb_label_2 => (2,), :ptb_label_3 => (2,)]
        @test mx.get_batch_size(p) == 2
        lstm = CharLSTM.LSTM(spec_for(27; hidden = 4, embed = 5), 3)
        given = Set(first.([mx.provide_data(p); mx.provide_label(p)]))
        @test issubset(given, Set(mx.list_arguments(lstm)))
    end

    @testset "contiguous runs, labels are the next characters, tail dropped" begin
        p = provider(alphabet)
        batches = mx.eachbatch(p)
        @test length(batches) == 4   # 25 characters can have a next one: 4 batches of 6
        seen = []
        for (k, batch) in enumerate(batches)
            @test batch.count == 2
            chunk = (k - 1) * 6
            for t in 1:3, i in 1:2
                onehot = copy(batch.data[t])[:, i]
                @test Base.sum(onehot) == 1
                position = chunk + (i - 1) * 3 + t
                @test argmax(onehot) - 1 == position - 1            # 'a' is class 0
                @test copy(batch.label[t])[i] == position           # the next character
            end
            @test all(Base.sum(copy(a)) == 0 for a in batch.data[4:end])   # initial states
            push!(seen, batch)
        end
        @test all(b === seen[1] for b in seen)   # one set of arrays, refilled
        @test length(mx.eachbatch(provider(alphabet[1:24]))) == 3
    end

    @testset "a text too short for one batch" begin
        @test length(mx.eachbatch(provider(alphabet[1:7]))) == 1
        err = try provider(alphabet[1:6]); nothing catch e; e end
        @test err isa PyJLChar.UserError
        @test occursin("6 characters", err.msg) && occursin("needs 7", err.msg)
        @test occursin("batch_size", err.msg) && occursin("bigger corpus", err.msg)
    end

    @testset "split_text: contiguous, by character" begin
        text = "héllo wörld ✓ 日本"
        train, validation = CharLSTM.split_text(text, 0.5)
        @test train * validation == text
        @test length(train) == 8 && length(validation) == 8
        @test_throws ArgumentError CharLSTM.split_text(text, 0)   # settings.jl refuses it first
        @test_throws ArgumentError CharLSTM.split_text(text, 1)
    end
end

@testset "Vocabulary" begin
    text = "héllo wörld ✓ 日本\nhello again\n"
    vocab = CharLSTM.build_vocabulary(text)

    @testset "every character, newline included, sorted by code point" begin
        @test vocab.chars == sort(unique(collect(text)))
        @test '\n' in vocab.chars && '日' in vocab.chars
        @test CharLSTM.build_vocabulary(reverse(text)).chars == vocab.chars
    end

    @testset "the unknown class is the last, distinct from every character" begin
        @test CharLSTM.n_class(vocab) == length(vocab.chars) + 1
        @test CharLSTM.unknown_class(vocab) == length(vocab.chars)
        ids = CharLSTM.encode(vocab, "hZ✗")
        @test ids[1] != CharLSTM.unknown_class(vocab)
        @test ids[2:3] == fill(CharLSTM.unknown_class(vocab), 2)
        @test CharLSTM.unknown_chars(vocab, "hZé✗Z") == ['Z', '✗']
        @test CharLSTM.decode(vocab, ids) == "h\ufffd\ufffd"
    end

    @testset "UTF-8 text round trips by character" begin
        ids = CharLSTM.encode(vocab, text)
        @test ids isa Vector{Int32} && length(ids) == length(text)
        @test all(0 .<= ids .< CharLSTM.unknown_class(vocab))
        @test CharLSTM.decode(vocab, ids) == text
    end

    @testset "stored as one-character strings in class-id order" begin
        list = CharLSTM.vocab_to_list(vocab)
        @test list[1] == "\n" && all(length.(list) .== 1)
        back = CharLSTM.vocab_from_list(JSON.parse_json(JSON.json(list)))
        @test back.chars == vocab.chars
        @test_throws PyJLChar.UserError CharLSTM.vocab_from_list(["b", "a"])
        @test_throws PyJLChar.UserError CharLSTM.vocab_from_list(["ab"])
    end

    @testset "bad text" begin
        @test_throws PyJLChar.UserError CharLSTM.build_vocabulary("")
        @test_throws PyJLChar.UserError CharLSTM.build_vocabulary(String(UInt8[0x61, 0xff]))
    end
end

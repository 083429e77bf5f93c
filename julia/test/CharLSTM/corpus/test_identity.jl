@testset "corpus identity: the same text, or a new one only when asked, in the same vocabulary" begin
    dir = mktempdir()
    corpus(name, text) = (path = joinpath(dir, name); write(path, text);
                          quiet(() -> CharLSTM.encoded_corpus([path], joinpath(dir, "cache"))))
    vocab = CharLSTM.build_vocabulary("abc ")
    saved = corpus("started.txt", "abc abc").identity
    # The text, not the file.
    @test CharLSTM.resumed_identity(saved, corpus("copy.txt", "abc abc"), vocab, false) == saved
    check(name, text, allow) = user_error(() -> CharLSTM.resumed_identity(saved, corpus(name, text), vocab, allow))
    @test occursin("--allow-new-text", check("c.txt", "cab cab", false))
    @test occursin("lacks (\"x\")", check("x.txt", "abx", true))
    new = quiet(() -> CharLSTM.resumed_identity(saved, corpus("new.txt", "cab"), vocab, true))
    @test new == CharLSTM.CorpusIdentity(3, bytes2hex(CharLSTM.SHA.sha256("cab")))
    # A run from before the identity was recorded takes the text it resumes on.
    @test CharLSTM.resumed_identity(nothing, corpus("any.txt", "cab"), vocab, false) == new
end

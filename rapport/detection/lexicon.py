"""Word lists behind the detector's hand-made signals.

All words are lower-case with apostrophes removed ("can't" is "cant"), as the
tokenizer produces them. The lists are short on purpose: each signal only has to be
right more often than not, and the learned weights do the rest.
"""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


INTERROGATIVES = _words("what whats when where wheres who whos why how hows which whom whose")
AUXILIARIES = _words(
    "can could would will is are do does did should shall may might have has was were am isnt "
    "arent doesnt dont didnt cant wont couldnt wouldnt shouldnt hasnt havent"
)
# Words that may open a sentence before the part that shows its kind ("ok so how do I...").
OPENERS = _words(
    "and so also ok okay k hey hi hello btw but then um hmm oh ah well yo sorry quick q "
    "question team all guys folks hiya thanks thank you great cool sure yes no yeah just "
    "please pls plz kindly"
)
# Verbs that open an instruction ("send me the invoice", "please add 3 seats").
IMPERATIVES = _words(
    "add send check tell show give find book set turn play cancel remove delete update change "
    "reset create make get let schedule call email share enable disable remind open look fix "
    "help move transfer resend revoke extend upgrade downgrade unlock restore confirm provide "
    "explain ping escalate investigate assign invite issue refund correct deactivate activate "
    "switch rename merge export import sync raise increase lower bump approve whitelist "
    "allowlist walk point clarify advise review rerun re look reply respond contact"
)
ACKNOWLEDGEMENTS = _words(
    "thanks thank you u so much very a lot ton tons bunch again ty thx tysm thnx thanx cheers "
    "appreciate appreciated it really great awesome perfect ok okay k kk okey dokey cool got "
    "gotcha sounds good nice sweet noted yes yep yup yeah ya no nope nah sure all set thats "
    "that fine works for me us lol lmao haha hahaha hehe wow love excellent brilliant "
    "fantastic amazing will do done ack right exactly agreed understood makes sense alright "
    "np problem worries welcome the same here too legend kind kindly"
)
GREETINGS = _words(
    "hi hello hey hiya howdy yo morning afternoon evening good gm greetings there team all "
    "everyone folks guys yall friends dear happy monday tuesday wednesday thursday friday "
    "weekend"
)
PLEASE = _words("please pls plz kindly")
NEED = _words(
    "need needs needed require requires required want wanted wanting like love wondering "
    "looking requesting request"
)
HELP = _words("help assist assistance support")
PROBLEM = _words("issue issues problem problems bug bugs glitch trouble")
# Words that report something going wrong.
FAILURE = _words(
    "error errors exception failed fails failing fail failure broken broke crash crashes "
    "crashed crashing down outage timeout timeouts stuck blank missing wrong slow slower "
    "laggy hangs hanging frozen freezes gone vanished disappeared wiped lost duplicate "
    "duplicates twice double doubled incorrect invalid rejected denied forbidden expired "
    "locked blocked blocking bounced delayed weird odd strange urgent asap corrupted garbled "
    "mismatch unusable spinning spinner loop"
)
NEGATORS = _words(
    "not no never dont doesnt isnt cant cannot wont didnt havent hasnt arent wasnt werent "
    "couldnt without unable nobody none nothing zero longer"
)
# Verbs whose negation reports a fault ("doesn't load", "can't log in", "not syncing").
FUNCTIONS = _words(
    "work works working worked load loads loading loaded show shows showing shown sync syncs "
    "syncing synced arrive arrives arriving arrived receive received receiving get getting "
    "got see seeing find access log login open opens save saves saving match matches connect "
    "connecting connected send sends sending sent update updating updated go going appear "
    "appears appearing display displaying fire firing start starting started come coming "
    "respond responding accept run running let allow came went goes"
)
FOLLOW_UP = _words(
    "eta status news progress word bump bumping nudge chasing chase circling "
    "following ping pinging reminder movement"
)
PERSISTENCE = _words("still yet again anymore back")
RESOLVED = _words("fixed resolved sorted solved works working worked normal")
YOU = _words("you u someone somebody anyone anybody we i")

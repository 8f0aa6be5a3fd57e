"""Writes eval/claims.jsonl: hand-written model replies, each labelled supported or not by the
passages it cites, for measuring the claim check (rag.answer.claims).

The replies were written by hand, before the check was built, from the two seed articles and
from SQuAD 2.0 training paragraphs (shared/benchmarks/squad2-dev-train-25articles.json; never
the 5-article benchmark file). Each false reply is one of five kinds a model really produces:
the wrong subject for a deed, a swapped figure, another place, a flipped negation, or an added
detail no passage gives. True replies come in the shapes models write: [1], [1, 4], [1][2],
[Passage 1], (Passage 1), [^1], a figure written differently (1400 for 1,400), and sentences
without any marker.

    python bench/make_claim_set.py [--squad PATH] [--out eval/claims.jsonl]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SQUAD = REPO.parent / "shared" / "benchmarks" / "squad2-dev-train-25articles.json"

#: Glued words the ingest cleaner splits; the passages here are the cleaned text.
_GLUED = {"Rotherhamand": "Rotherham and", "likeRotherham": "like Rotherham", "officers.Ofsted": "officers."}

#: Seed passages as the index chunks them: a few paragraphs each (paragraph indices per chunk).
SEED_CHUNKS = {
    "R": ("seeds/ofsted-boss-fears-repeat-of-rotherham.txt", [[0, 1, 2], [3, 4], [5, 6], [7, 8, 9]]),
    "C": ("seeds/ofsted-council-failings-put-children-at-risk.txt", [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11, 12]]),
}

#: Where each article's body starts, and the promo lines the cleaner removes.
_FIRST = {"R": "Police failures", "C": "Failings by England"}
_PROMOS = ("Subscribe to", "Escape your echo", "Sign up for", "From our morning")

T, F = "supported", "unsupported"

# (source, paragraphs, question, reply, verdict, kind); source "R"/"C" = seed article chunks (all
# four passages), otherwise a SQuAD title with the paragraph indices that become passages 1, 2, ...
CASES: list[tuple[str, list[int] | None, str, str, str, str]] = [
    # --- seed: Ofsted boss fears a repeat of Rotherham -----------------------------------------
    ("R", None, "How many children were sexually abused in Rotherham?",
     "A report published in 2014 found that 1,400 children were sexually abused in Rotherham between 1997 and 2013 [2].", T, "correct"),
    ("R", None, "How many children were sexually abused in Rotherham?",
     "In Rotherham 1400 children were sexually abused between 1997 and 2013 [2].", T, "correct"),
    ("R", None, "Who leads the police watchdog?",
     "Sir Tom leads the watchdog Her Majesty's Inspectorate of Constabulary [Passage 4].", T, "correct"),
    ("R", None, "Who wrote to Sir Tom Winsor?",
     "Ofsted boss Sir Michael Wilshaw wrote a damning letter to police watchdog chief Sir Tom Winsor (Passage 1).", T, "correct"),
    ("R", None, "How many inspections of children's services did Ofsted carry out in 2015-16?",
     "Ofsted made 42 inspections of local authority children's services in 2015-16, and more than half of them revealed serious weaknesses in police contributions [^3].", T, "correct"),
    ("R", None, "How many children were abused in Oxford?",
     "In Oxford more than 300 children were violently abused and tortured over more than 15 years [2].", T, "correct"),
    ("R", None, "What will Simon Bailey do?",
     "Chief Constable Simon Bailey said he will raise Sir Michael's concerns with all chief officers [1, 4].", T, "correct"),
    ("R", None, "What did Sir Michael Wilshaw say about police forces?",
     "Sir Michael Wilshaw said there are serious weaknesses in how a string of forces deal with the issue [1].", T, "correct"),
    ("R", None, "What were those in authority in Rotherham accused of?",
     "In Rotherham, those in authority were accused of turning a blind eye to the abuse.", T, "correct"),
    ("R", None, "What were forces slow to do?",
     "Some forces were not quick enough in telling social workers when children went missing [3].", T, "correct"),
    ("R", None, "What is HMIC assessing?",
     "According to the passage, HMIC is currently assessing how well police deal with vulnerable victims and child safety [4].", T, "correct"),
    ("R", None, "Who leads the police watchdog?",
     "Sir Michael Wilshaw leads the police watchdog [4].", F, "wrong_subject"),
    ("R", None, "How many children were sexually abused in Oxford?",
     "In Oxford 1,400 children were sexually abused [2].", F, "other_place"),
    ("R", None, "How many children were sexually abused in Rotherham?",
     "In Rotherham more than 300 children were sexually abused between 1997 and 2013 [2].", F, "swapped_figure"),
    ("R", None, "When was the Rotherham report published?",
     "A report published in 2015 found that 1,400 children were sexually abused in Rotherham [2].", F, "swapped_figure"),
    ("R", None, "Who wrote the damning letter?",
     "Sir Tom Winsor wrote a damning letter to Ofsted boss Sir Michael Wilshaw [1].", F, "wrong_subject"),
    ("R", None, "What did Sir Michael Wilshaw say?",
     "Sir Michael Wilshaw said there are no serious weaknesses in how forces deal with the issue [1].", F, "negation"),
    ("R", None, "How many children were sexually abused in Rotherham?",
     "In Rotherham 1,400 children were sexually abused between 1997 and 2013, most of them in council care homes [2].", F, "unsupported_addition"),
    ("R", None, "What did Ofsted's inspections reveal?",
     "Chief Constable Simon Bailey said more than half of Ofsted's 42 inspections revealed serious weaknesses [3, 4].", F, "wrong_subject"),
    ("R", None, "Were forces quick to tell social workers about missing children?",
     "Forces were quick enough in telling social workers when children went missing [3].", F, "negation"),
    ("R", None, "Who turned a blind eye to the abuse?",
     "In Oxford, those in authority were accused of turning a blind eye to the abuse [2].", F, "other_place"),
    ("R", None, "What did Sir Tom say in his reply?",
     "Sir Tom, who leads HMIC, said the body will publish its findings on child safety next year [4].", F, "unsupported_addition"),
    ("R", None, "How many inspections did Ofsted carry out in 2015-16?",
     "Ofsted carried out 15 inspections of local authority children's services in 2015-16 [3].", F, "swapped_figure"),
    ("R", None, "Who will raise Sir Michael's concerns with chief officers?",
     "Sir Tom Winsor said he will raise Sir Michael's concerns with all chief officers [4].", F, "wrong_subject"),
    ("R", None, "How many children were sexually abused in Rotherham?",
     "1,400 children were sexually abused in Rotherham between 1997 and 2013 [2]. Most of the abusers were later jailed [2].", F, "unsupported_addition"),
    # --- seed: Ofsted: council failings put children at risk --------------------------------------
    ("C", None, "Who commissioned the report?",
     "The report was commissioned by the watchdog's chief inspector, Sir Michael Wilshaw [1].", T, "correct"),
    ("C", None, "What did the LGA call for?",
     "The LGA has called for an independent review to discover what has gone wrong with the watchdog [4].", T, "correct"),
    ("C", None, "How many local authorities failed to put an action plan in place?",
     "Half of local authorities in England failed to put an action plan into place [1].", T, "correct"),
    ("C", None, "Which cases uncovered the scale of the problem?",
     "Cases in Rotherham, Rochdale, Derby and Oxford have uncovered the previously hidden scale of the problem [Passage 2].", T, "correct"),
    ("C", None, "Who is David Simmonds?",
     "David Simmonds is chairman of the Local Government Association's children and young people board [4].", T, "correct"),
    ("C", None, "What did David Simmonds tell the BBC?",
     "He told the BBC that councils would reflect on the report's implications [4].", T, "correct"),
    ("C", None, "What did Ofsted accuse councils of?",
     "Ofsted accused councils of being too slow in fulfilling their duties to prevent child sexual exploitation.", T, "correct"),
    ("C", None, "Is child sexual exploitation confined to particular ethnic groups?",
     "No, the report warned that child sexual exploitation is not confined to particular ethnic groups or parts of the country [3].", T, "correct"),
    ("C", None, "What did the MPs' report conclude?",
     "A separate report by MPs into the Rotherham cases concluded that the local authority had failed the victims [4].", T, "correct"),
    ("C", None, "What did the report say about information sharing?",
     "The report said there was poor information sharing between local authorities, police, health services and others [2][3].", T, "correct"),
    ("C", None, "What did the LGA call for?",
     "The LGA did not call for an independent review [4].", F, "negation"),
    ("C", None, "What did David Simmonds tell the BBC?",
     "David Simmonds told the BBC that the local authority had failed the victims [4].", F, "wrong_subject"),
    ("C", None, "Who accused councils of being too slow?",
     "The LGA accused councils of being too slow in fulfilling their duties [1].", F, "wrong_subject"),
    ("C", None, "Who called for an independent review?",
     "MPs called for an independent review to discover what has gone wrong with the watchdog [4].", F, "wrong_subject"),
    ("C", None, "Which cases uncovered the scale of the problem?",
     "Cases in Manchester have uncovered the previously hidden scale of the problem [2].", F, "other_place"),
    ("C", None, "How many local authorities failed to put an action plan in place?",
     "A third of local authorities in England failed to put an action plan into place [1].", F, "swapped_figure"),
    ("C", None, "What did Ofsted say about councils?",
     "Ofsted has accused councils of being too slow and has fined several of them [1].", F, "unsupported_addition"),
    ("C", None, "Who is David Simmonds?",
     "David Simmonds, chairman of the LGA's children and young people board, resigned after the report [4].", F, "unsupported_addition"),
    ("C", None, "Is child sexual exploitation confined to particular ethnic groups?",
     "The report warned that child sexual exploitation is confined to particular ethnic groups [3].", F, "negation"),
    ("C", None, "What did the MPs' report conclude?",
     "A separate report by MPs into the Oxford cases concluded the local authority had failed the victims [4].", F, "other_place"),
    # --- SQuAD: Huguenot ----------------------------------------------------------------------------
    ("Huguenot", [0], "When did Huguenot numbers peak?",
     "Huguenot numbers peaked near an estimated two million by 1562 [1].", T, "correct"),
    ("Huguenot", [0], "How did the Wars of Religion end?",
     "The Wars of Religion finally ended with the granting of the Edict of Nantes [1].", T, "correct"),
    ("Huguenot", [0], "When did Huguenot numbers peak?",
     "Huguenot numbers peaked near an estimated two million by 1598 [1].", F, "swapped_figure"),
    ("Huguenot", [0], "What did the Edict of Nantes grant?",
     "The Edict of Nantes did not grant the Huguenots substantial religious, political and military autonomy [1].", F, "negation"),
    ("Huguenot", [4], "Who was the first Huguenot to arrive at the Cape of Good Hope?",
     "The first Huguenot to arrive at the Cape of Good Hope was Maria de la Queillerie, wife of commander Jan van Riebeeck [Passage 1].", T, "correct"),
    ("Huguenot", [4], "Who was the first Huguenot to arrive at the Cape of Good Hope?",
     "The first Huguenot to arrive at the Cape of Good Hope was François Villion [1].", F, "wrong_subject"),
    ("Huguenot", [4], "When did Maria de la Queillerie arrive?",
     "Maria de la Queillerie arrived at the Cape of Good Hope on 6 April 1671 [1].", F, "swapped_figure"),
    ("Huguenot", [4], "When did the first organised group of Huguenots set sail?",
     "The first organised group of Huguenots set sail from the Netherlands on 31 December 1687 [1].", T, "correct"),
    ("Huguenot", [4], "Where did the first organised group of Huguenots sail from?",
     "On 31 December 1687 the first organised group of Huguenots set sail from France to the Cape of Good Hope [1].", F, "other_place"),
    ("Huguenot", [5], "Who led the Huguenots to North America?",
     "The Huguenots who sailed to North America in 1624 were led by Jessé de Forest [1].", T, "correct"),
    ("Huguenot", [5], "Where did the Huguenots led by Jessé de Forest settle?",
     "Huguenots led by Jessé de Forest settled in New France in 1624 [1].", F, "other_place"),
    ("Huguenot", [5], "Where did Huguenots become the first Europeans to live?",
     "Huguenots became the first Europeans to live in Brooklyn, then known as Boschwick [1].", T, "correct"),
    ("Huguenot", [5], "Why did the Huguenots choose Newtown Creek?",
     "The Huguenots chose the harbor at the end of Newtown Creek because it offered protection from raids [1].", F, "unsupported_addition"),
    # --- SQuAD: Steam engine ------------------------------------------------------------------------
    ("Steam_engine", [1], "Who invented the atmospheric engine?",
     "The atmospheric engine was invented by Thomas Newcomen around 1712 [1].", T, "correct"),
    ("Steam_engine", [1], "Who invented the atmospheric engine?",
     "The atmospheric engine was invented by Papin around 1712 [1].", F, "wrong_subject"),
    ("Steam_engine", [1], "When was the atmospheric engine invented?",
     "Thomas Newcomen invented the atmospheric engine around 1721 [1].", F, "swapped_figure"),
    ("Steam_engine", [1], "What was Newcomen's engine used for?",
     "Newcomen's engine was relatively inefficient and in most cases was used for pumping water [1].", T, "correct"),
    ("Steam_engine", [1], "What was Newcomen's engine used for?",
     "Newcomen's engine was not used for pumping water [1].", F, "negation"),
    ("Steam_engine", [2], "Who built the first full-scale working railway steam locomotive?",
     "Richard Trevithick built the first full-scale working railway steam locomotive in the United Kingdom [1].", T, "correct"),
    ("Steam_engine", [2], "Where did the first railway journey take place?",
     "The world's first railway journey took place in north-east England on 21 February 1804 [1].", F, "other_place"),
    ("Steam_engine", [2], "Where did the first railway journey go?",
     "On 21 February 1804, Trevithick's unnamed steam locomotive hauled a train from the Pen-y-darren ironworks to Abercynon in south Wales [1].", T, "correct"),
    ("Steam_engine", [2], "What did Trevithick's locomotive haul?",
     "Trevithick's locomotive hauled a train carrying 70 passengers along the tramway [1].", F, "unsupported_addition"),
    # --- SQuAD: Oxygen ------------------------------------------------------------------------------
    ("Oxygen", [0], "What share of Earth's atmosphere is oxygen?",
     "Diatomic oxygen gas constitutes 20.8% of the Earth's atmosphere [1].", T, "correct"),
    ("Oxygen", [0], "What share of Earth's atmosphere is oxygen?",
     "Diatomic oxygen gas constitutes 8% of the Earth's atmosphere [1].", F, "swapped_figure"),
    ("Oxygen", [0], "How abundant is oxygen in the universe?",
     "By mass, oxygen is the third-most abundant element in the universe, after hydrogen and helium [1].", T, "correct"),
    ("Oxygen", [0], "Which element is the third-most abundant in the universe?",
     "Hydrogen is the third-most abundant element in the universe by mass [1].", F, "wrong_subject"),
    ("Oxygen", [0], "What trend do atmospheric oxygen levels show?",
     "Monitoring of atmospheric oxygen levels shows a global upward trend [1].", F, "negation"),
    ("Oxygen", [3], "Who conducted the experiment of August 1, 1774?",
     "On August 1, 1774, the British clergyman Joseph Priestley conducted an experiment that focused sunlight on mercuric oxide [1].", T, "correct"),
    ("Oxygen", [3], "When did Priestley publish his findings?",
     "Priestley published his findings in 1774 [1].", F, "swapped_figure"),
    ("Oxygen", [3], "Why is Priestley given priority in the discovery?",
     "Priestley is usually given priority in the discovery because he published his findings first [^1].", T, "correct"),
    ("Oxygen", [3], "What did Priestley notice about candles?",
     "Priestley noted that candles did not burn brighter in the gas [1].", F, "negation"),
    ("Oxygen", [2], "Who proved that air is necessary for combustion?",
     "In the late 17th century, Robert Boyle proved that air is necessary for combustion [1].", T, "correct"),
    ("Oxygen", [2], "Who proved that air is necessary for combustion?",
     "John Mayow proved that air is necessary for combustion [1].", F, "wrong_subject"),
    ("Oxygen", [2], "What did Mayow find in his experiment?",
     "In one experiment, Mayow found that the water rose and replaced one-fourteenth of the air's volume [1].", T, "correct"),
    # --- SQuAD: Amazon rainforest -------------------------------------------------------------------
    ("Amazon_rainforest", [0], "How much of the rainforest is in Brazil?",
     "Brazil has 60% of the rainforest, followed by Peru with 13% and Colombia with 10% [1].", T, "correct"),
    ("Amazon_rainforest", [0], "Which country contains 60% of the rainforest?",
     "Peru contains 60% of the Amazon rainforest [1].", F, "wrong_subject"),
    ("Amazon_rainforest", [0], "How much of the rainforest is in Brazil?",
     "Brazil contains 13% of the rainforest [1].", F, "swapped_figure"),
    ("Amazon_rainforest", [0], "How many trees are in the Amazon?",
     "The Amazon has an estimated 390 billion individual trees divided into 16,000 species [1].", T, "correct"),
    ("Amazon_rainforest", [0], "How many trees are in the Amazon?",
     "The Amazon has an estimated 16,000 billion individual trees divided into 390 species [1].", F, "swapped_figure"),
    ("Amazon_rainforest", [0], "How large is the area covered by the rainforest?",
     "Of the basin's 7000000 square kilometres, 5500000 square kilometres are covered by the rainforest [1].", T, "correct"),
    ("Amazon_rainforest", [5], "What did Betty Meggers claim?",
     "Betty Meggers claimed that 0.2 inhabitants per square kilometre is the maximum that can be sustained in the rainforest through hunting [1].", T, "correct"),
    ("Amazon_rainforest", [5], "What was the population of the Amazon region by 1900?",
     "By 1900 the population of the Amazon region had fallen to 200,000 [1].", F, "swapped_figure"),
    ("Amazon_rainforest", [5], "How many people lived in the Amazon region in AD 1500?",
     "Some 5 million people may have lived in the Amazon region in AD 1500, most of them farmers [1].", F, "unsupported_addition"),
    ("Amazon_rainforest", [5], "How many people lived in the Amazon region in AD 1500?",
     "Some 5 million people may have lived in the Amazon region in AD 1500 [1].", T, "correct"),
    # --- SQuAD: Ctenophora --------------------------------------------------------------------------
    ("Ctenophora", [1], "How much can ctenophores eat?",
     "In favorable circumstances, ctenophores can eat ten times their own weight in a day [1].", T, "correct"),
    ("Ctenophora", [1], "How much can ctenophores eat?",
     "Ctenophores can eat 25 times their own weight in a day [1].", F, "swapped_figure"),
    ("Ctenophora", [1], "How many species of ctenophores have been validated?",
     "Only 100–150 species have been validated [1].", T, "correct"),
    ("Ctenophora", [1], "Do beroids have tentacles?",
     "Beroids have tentacles and prey on other ctenophores [1].", F, "negation"),
    ("Ctenophora", [3], "What happened when Mnemiopsis reached the Black Sea?",
     "Mnemiopsis was accidentally introduced into the Black Sea, where it is blamed for causing fish stocks to collapse [1].", T, "correct"),
    ("Ctenophora", [3], "What caused fish stocks in the Black Sea to collapse?",
     "Beroe is blamed for causing fish stocks in the Black Sea to collapse [1].", F, "wrong_subject"),
    ("Ctenophora", [3], "Where was Mnemiopsis introduced?",
     "Mnemiopsis was accidentally introduced into the Caspian Sea [1].", F, "other_place"),
    # --- SQuAD: Fresno ------------------------------------------------------------------------------
    ("Fresno,_California", [0, 1], "What was Fresno's population in 2015?",
     "As of 2015, Fresno's population was 520,159 [1].", T, "correct"),
    ("Fresno,_California", [0, 1], "What was Fresno's population in 2015?",
     "Fresno's population was 520159 in 2015, making it the fifth-largest city in California [1].", T, "correct"),
    ("Fresno,_California", [0, 1], "How large is Fresno within California?",
     "As of 2015, Fresno was the 34th-largest city in California [1].", F, "swapped_figure"),
    ("Fresno,_California", [0, 1], "How far is Fresno from San Francisco?",
     "Fresno is approximately 220 miles northwest of San Francisco [1].", F, "other_place"),
    ("Fresno,_California", [0, 1], "What does the name Fresno mean?",
     "The name Fresno means \"ash tree\" in Spanish [1].", T, "correct"),
    ("Fresno,_California", [0, 1], "When did Fresno become an incorporated city?",
     "Fresno became an incorporated city in 1885 [2].", T, "correct"),
    ("Fresno,_California", [0, 1], "When did Fresno become an incorporated city?",
     "Fresno became an incorporated city in 1872 [2].", F, "swapped_figure"),
    ("Fresno,_California", [0, 1], "Who established a station near Easterby's?",
     "In 1872, the Southern Pacific Railroad established a station near Easterby's [2].", F, "wrong_subject"),
    ("Fresno,_California", [0, 1], "How many streetcars did the Fresno Traction Company operate?",
     "By 1931 the Fresno Traction Company operated 47 streetcars over 49 miles of track [1, 2].", T, "correct"),
    ("Fresno,_California", [0, 1], "How many streetcars did the Fresno Traction Company operate?",
     "By 1931 the Fresno Traction Company operated 49 streetcars over 47 miles of track [2].", F, "swapped_figure"),
    ("Fresno,_California", [3], "Where was BankAmericard launched?",
     "In September 1958, Bank of America launched BankAmericard in Fresno [1].", T, "correct"),
    ("Fresno,_California", [3], "Where was BankAmericard launched?",
     "Bank of America launched BankAmericard in San Francisco in September 1958 [1].", F, "other_place"),
    ("Fresno,_California", [3], "What became of BankAmericard?",
     "In 1976 BankAmericard was renamed and spun off into a separate company known today as Visa Inc. [1]", T, "correct"),
    ("Fresno,_California", [3], "Was BankAmericard successful?",
     "BankAmericard did not become a successful credit card [1].", F, "negation"),
    # --- SQuAD: Packet switching --------------------------------------------------------------------
    ("Packet_switching", [0, 4], "Who coined the name packet switching?",
     "Donald Davies is credited with coining the modern name packet switching [1].", T, "correct"),
    ("Packet_switching", [0, 4], "Who coined the name packet switching?",
     "Paul Baran is credited with coining the modern name packet switching [1].", F, "wrong_subject"),
    ("Packet_switching", [0, 4], "Where did Paul Baran develop his concept?",
     "Paul Baran developed the concept Distributed Adaptive Message Block Switching as part of a research program at the RAND Corporation [1].", T, "correct"),
    ("Packet_switching", [0, 4], "Where did Donald Davies work?",
     "Donald Davies did his work on packet switching at the RAND Corporation [1].", F, "other_place"),
    ("Packet_switching", [0, 4], "When did Davies start developing his method?",
     "Starting in 1965, Donald Davies independently developed the same message routing methodology as Baran [2].", T, "correct"),
    ("Packet_switching", [0, 4], "When did Davies give a talk on the proposal?",
     "Davies gave a talk on the proposal in 1967 [2].", F, "swapped_figure"),
    ("Packet_switching", [0, 4], "What did Davies propose?",
     "Davies called it packet switching and proposed to build a nationwide network in the UK [1, 2].", T, "correct"),
    ("Packet_switching", [0, 4], "Who suggested packet switching for the ARPANET?",
     "Lawrence Roberts met Roger Scantlebury and suggested packet switching for use in the ARPANET [2].", F, "wrong_subject"),
    # --- SQuAD: Black Death -------------------------------------------------------------------------
    ("Black_Death", [0, 2, 3], "How many Europeans did the Black Death kill?",
     "The Black Death is estimated to have killed 30–60% of Europe's total population [1].", T, "correct"),
    ("Black_Death", [0, 2, 3], "When did the Black Death reach Crimea?",
     "It travelled along the Silk Road and reached Crimea by 1343 [1].", T, "correct"),
    ("Black_Death", [0, 2, 3], "When did the Black Death reach Crimea?",
     "The Black Death reached Crimea by 1347 [1].", F, "swapped_figure"),
    ("Black_Death", [0, 2, 3], "Did the plague recur in Europe?",
     "The plague did not recur in Europe after the 14th century [1].", F, "negation"),
    ("Black_Death", [0, 2, 3], "How did plague reach Europe?",
     "Plague was reportedly first introduced to Europe via Genoese traders at the port city of Kaffa in the Crimea in 1347 [2].", T, "correct"),
    ("Black_Death", [0, 2, 3], "Who catapulted the infected corpses over the walls of Kaffa?",
     "The Genoese traders catapulted the infected corpses over the city walls of Kaffa [2].", F, "wrong_subject"),
    ("Black_Death", [0, 2, 3], "Where did the Genoese traders take the plague?",
     "The Genoese traders fled, taking the plague by ship into Sardinia [2].", F, "other_place"),
    ("Black_Death", [0, 2, 3], "How did the plague reach Norway?",
     "The plague was introduced in Norway in 1349 when a ship landed at Askøy [3].", T, "correct"),
    ("Black_Death", [0, 2, 3], "How did the plague reach Iceland?",
     "The plague was introduced in Iceland in 1349 when a ship landed at Askøy [3].", F, "other_place"),
    ("Black_Death", [0, 2, 3], "When did the plague reach Russia?",
     "Finally the plague spread to northwestern Russia in 1349 [3].", F, "swapped_figure"),
    # --- SQuAD: Harvard -----------------------------------------------------------------------------
    ("Harvard_University", [1, 3], "How large is the Harvard Library?",
     "The Harvard Library comprises 79 individual libraries with over 18 million volumes [1].", T, "correct"),
    ("Harvard_University", [1, 3], "How large is the Harvard Library?",
     "The Harvard Library comprises 18 individual libraries with over 79 million volumes [1].", F, "swapped_figure"),
    ("Harvard_University", [1, 3], "Which notable alumni does Harvard have?",
     "Harvard's alumni include eight U.S. presidents and 62 living billionaires [1].", T, "correct"),
    ("Harvard_University", [1, 3], "How many U.S. presidents studied at Harvard?",
     "Harvard's alumni include 62 U.S. presidents [1].", F, "swapped_figure"),
    ("Harvard_University", [1, 3], "How many Nobel laureates have been affiliated with Harvard?",
     "Some 150 Nobel laureates have been affiliated with Harvard as students, faculty, or staff (Passage 1).", T, "correct"),
    ("Harvard_University", [1, 3], "Which presidents studied at Harvard?",
     "Harvard's alumni include eight U.S. presidents, among them John F. Kennedy [1].", F, "unsupported_addition"),
    ("Harvard_University", [1, 3], "When was Harvard formed?",
     "Harvard was formed in 1636 by vote of the Great and General Court of the Massachusetts Bay Colony [2].", T, "correct"),
    ("Harvard_University", [1, 3], "When did the college get a printing press?",
     "In 1639 the college became home for North America's first known printing press [2].", F, "swapped_figure"),
    ("Harvard_University", [1, 3], "What did John Harvard leave the school?",
     "John Harvard left the school £779 and his library of some 400 books [2].", T, "correct"),
    # --- SQuAD: IPCC --------------------------------------------------------------------------------
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "Who chairs the IPCC?",
     "Hoesung Lee has been the chair of the IPCC since October 8, 2015 [2].", T, "correct"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "Who chairs the IPCC?",
     "Ismail El Gizouli has been the chair of the IPCC since October 8, 2015 [2].", F, "wrong_subject"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "When was Robert Watson chair?",
     "Robert Watson was elected chair of the IPCC in 1988 [2].", F, "swapped_figure"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "When was Pachauri elected?",
     "Rajendra K. Pachauri was elected chair in May 2002 [2].", T, "correct"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "How was Hoesung Lee elected?",
     "Hoesung Lee, a Korean economist, was unanimously elected chair of the IPCC on October 8, 2015 [2].", F, "unsupported_addition"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "Who led the IPCC before Hoesung Lee's election?",
     "Before this election, the IPCC was led by vice-Chair Ismail El Gizouli, who was designated acting Chair [2].", T, "correct"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "How many attended the 2003 meeting?",
     "Attendance at the 2003 meeting included 350 government officials and climate change experts [3].", T, "correct"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "How many persons attended the Sessions?",
     "The meeting report states there were 350 persons in attendance at Sessions [3].", F, "swapped_figure"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "Who established the IPCC?",
     "The IPCC was first established in 1988 by the World Meteorological Organization and the United Nations Environment Programme [1].", T, "correct"),
    ("Intergovernmental_Panel_on_Climate_Change", [0, 1, 2], "Who established the IPCC?",
     "The IPCC was first established in 1988 by the United Nations General Assembly [1].", F, "wrong_subject"),
    # --- SQuAD: Warsaw ------------------------------------------------------------------------------
    ("Warsaw", [0, 1, 2], "What is the population of Warsaw?",
     "Warsaw's population is estimated at 1.740 million residents within a greater metropolitan area of 2.666 million residents [1].", T, "correct"),
    ("Warsaw", [0, 1, 2], "What is the population of Warsaw?",
     "The population of Warsaw is estimated at 2.666 million residents [1].", F, "swapped_figure"),
    ("Warsaw", [0, 1, 2], "How far is Warsaw from the Baltic Sea?",
     "Warsaw stands on the Vistula River, roughly 260 kilometres from the Baltic Sea [1].", T, "correct"),
    ("Warsaw", [0, 1, 2], "How far is Warsaw from the Carpathian Mountains?",
     "Warsaw is roughly 260 kilometres from the Carpathian Mountains [1].", F, "other_place"),
    ("Warsaw", [0, 1, 2], "When did Warsaw become the capital?",
     "King Sigismund III Vasa moved his court from Kraków to Warsaw in 1596 [3].", T, "correct"),
    ("Warsaw", [0, 1, 2], "Where did Sigismund III Vasa move his court?",
     "King Sigismund III Vasa moved his court from Warsaw to Vilnius in 1596 [3].", F, "other_place"),
    ("Warsaw", [0, 1, 2], "When is Warsaw first mentioned?",
     "The first historical reference to Warsaw dates back to the year 1596 [3].", F, "swapped_figure"),
    ("Warsaw", [0, 1, 2], "Who established the Grand Duchy of Warsaw?",
     "In 1806 Warsaw became the official capital of the Grand Duchy of Warsaw, a puppet state established by Napoleon Bonaparte [3].", T, "correct"),
    ("Warsaw", [0, 1, 2], "Who established the Grand Duchy of Warsaw?",
     "The Russian Empire established the Grand Duchy of Warsaw in 1806 [3].", F, "wrong_subject"),
    ("Warsaw", [0, 1, 2], "When did Warsaw regain independence?",
     "Warsaw did not regain independence from foreign rule in 1918 [3].", F, "negation"),
    ("Warsaw", [0, 1, 2], "How liveable is Warsaw?",
     "In 2012 the Economist Intelligence Unit ranked Warsaw as the 32nd most liveable city in the world [2].", T, "correct"),
    ("Warsaw", [0, 1, 2], "How liveable is Warsaw?",
     "In 2012 Warsaw was ranked the 12th most liveable city in the world [2].", F, "swapped_figure"),
    # --- SQuAD: Scottish Parliament -----------------------------------------------------------------
    ("Scottish_Parliament", [0, 3], "When did the new Scottish Parliament first meet?",
     "The first meeting of the new Parliament took place on 12 May 1999 [1].", T, "correct"),
    ("Scottish_Parliament", [0, 3], "When did the new Scottish Parliament first meet?",
     "The first meeting of the new Parliament took place on 12 May 1998 [1].", F, "swapped_figure"),
    ("Scottish_Parliament", [0, 3], "Where can the Scottish Parliament legislate?",
     "The Scottish Parliament has the power to legislate in all areas that are not explicitly reserved to Westminster [1].", T, "correct"),
    ("Scottish_Parliament", [0, 3], "Where can the Scottish Parliament legislate?",
     "The Scottish Parliament can legislate in areas that are explicitly reserved to Westminster [1].", F, "negation"),
    ("Scottish_Parliament", [0, 3], "Who can amend the terms of reference of the Scottish Parliament?",
     "The Scottish Parliament retains the ability to amend the terms of reference of the British Parliament [1].", F, "wrong_subject"),
    ("Scottish_Parliament", [0, 3], "What happened in the 1979 referendum?",
     "The 1979 Scottish devolution referendum failed, although the vote was 51.6% in favour of a Scottish Assembly [2].", T, "correct"),
    ("Scottish_Parliament", [0, 3], "What share voted for a Scottish Assembly in 1979?",
     "The 1979 referendum vote was 40% in favour of a Scottish Assembly [2].", F, "swapped_figure"),
    ("Scottish_Parliament", [0, 3], "What happened in the 1979 referendum?",
     "The 1979 Scottish devolution referendum to establish a devolved Scottish Assembly succeeded [2].", F, "negation"),
    # --- SQuAD: French and Indian War ---------------------------------------------------------------
    ("French_and_Indian_War", [0, 1, 2], "How many settlers did the French colonies have?",
     "At the start of the war, the French North American colonies had a population of roughly 60,000 European settlers, compared with 2 million in the British colonies [1].", T, "correct"),
    ("French_and_Indian_War", [0, 1, 2], "How many settlers did the British colonies have?",
     "At the start of the war, the British North American colonies had a population of roughly 60,000 European settlers [1].", F, "swapped_figure"),
    ("French_and_Indian_War", [0, 1, 2], "What happened at Jumonville Glen?",
     "In the Battle of Jumonville Glen in May 1754, Virginia militiamen under the command of 22-year-old George Washington ambushed a French patrol [2].", T, "correct"),
    ("French_and_Indian_War", [0, 1, 2], "What happened at Jumonville Glen?",
     "In May 1754 a French patrol ambushed Virginia militiamen under George Washington [2].", F, "wrong_subject"),
    ("French_and_Indian_War", [0, 1, 2], "How old was George Washington at Jumonville Glen?",
     "George Washington was 25 years old when his militiamen ambushed a French patrol [2].", F, "swapped_figure"),
    ("French_and_Indian_War", [0, 1, 2], "Who was defeated at the Battle of the Monongahela?",
     "General Edward Braddock was defeated in the Battle of the Monongahela on July 9, 1755 [3].", T, "correct"),
    ("French_and_Indian_War", [0, 1, 2], "Who was defeated at the Battle of the Monongahela?",
     "William Shirley was defeated in the Battle of the Monongahela on July 9, 1755 [3].", F, "wrong_subject"),
    ("French_and_Indian_War", [0, 1, 2], "Who ordered the deportation of the Acadians?",
     "Orders for the deportation were given by William Shirley, Commander-in-Chief, North America, without direction from Great Britain [3].", T, "correct"),
    ("French_and_Indian_War", [0, 1, 2], "Who ordered the deportation of the Acadians?",
     "William Shirley gave the orders for the deportation with direction from Great Britain [3].", F, "negation"),
    ("French_and_Indian_War", [0, 1, 2], "How did the British capture Fort Beauséjour?",
     "In 1755, the British captured Fort Beauséjour after a two-week siege [3].", F, "unsupported_addition"),
    ("French_and_Indian_War", [0, 1, 2], "Where was Fort Beauséjour?",
     "Fort Beauséjour was on the border separating Nova Scotia from Quebec [3].", F, "other_place"),
    # --- SQuAD: Jacksonville ------------------------------------------------------------------------
    ("Jacksonville,_Florida", [0, 1], "What was Jacksonville's population in 2014?",
     "Jacksonville had an estimated population of 853,382 in 2014 [1].", T, "correct"),
    ("Jacksonville,_Florida", [0, 1], "What was Jacksonville's population in 2014?",
     "Jacksonville had an estimated population of 1,345,596 in 2014 [1].", F, "swapped_figure"),
    ("Jacksonville,_Florida", [0, 1], "How far is Jacksonville from Miami?",
     "Jacksonville is about 340 miles north of Miami [2].", T, "correct"),
    ("Jacksonville,_Florida", [0, 1], "Whose colony was Fort Caroline?",
     "In 1564 the area was the site of the Spanish colony of Fort Caroline [2].", F, "other_place"),
    ("Jacksonville,_Florida", [0, 1], "Who was the town named after?",
     "A platted town was established there in 1822 and named after Andrew Jackson [2].", T, "correct"),
    ("Jacksonville,_Florida", [0, 1], "When did the city government consolidate with Duval County?",
     "Jacksonville's city government consolidated with Duval County in 1968.", T, "correct"),
    ("Jacksonville,_Florida", [0, 1], "Which county is Jacksonville the seat of?",
     "Jacksonville is the county seat of Miami-Dade County.", F, "other_place"),
    # --- SQuAD: Yuan dynasty ------------------------------------------------------------------------
    ("Yuan_dynasty", [0, 3], "When did Kublai Khan proclaim the dynasty?",
     "Kublai Khan officially proclaimed the dynasty in the traditional Chinese style in 1271 [1].", T, "correct"),
    ("Yuan_dynasty", [0, 3], "When did Kublai Khan proclaim the dynasty?",
     "Kublai Khan officially proclaimed the dynasty in 1368 [1].", F, "swapped_figure"),
    ("Yuan_dynasty", [0, 3], "How long did the Yuan dynasty last?",
     "The Yuan dynasty lasted until 1368 [1].", T, "correct"),
    ("Yuan_dynasty", [0, 3], "Who united the Mongol and Turkic tribes?",
     "Ögedei Khan united the Mongol and Turkic tribes of the steppes and became Great Khan in 1206 [2].", F, "wrong_subject"),
    ("Yuan_dynasty", [0, 3], "When did Möngke Khan become Great Khan?",
     "Möngke Khan succeeded Güyük as Great Khan in 1251 [2].", T, "correct"),
    ("Yuan_dynasty", [0, 3], "When did Möngke Khan become Great Khan?",
     "Möngke Khan became Great Khan in 1234 [2].", F, "swapped_figure"),
    ("Yuan_dynasty", [0, 3], "Could Kublai read Chinese?",
     "Kublai was able to read Chinese and had several Han Chinese teachers [2].", F, "negation"),
    ("Yuan_dynasty", [0, 3], "What was Kublai's capital?",
     "Kublai adopted Kaiping in Inner Mongolia as his capital city, later renamed Shangdu [2].", T, "correct"),
    ("Yuan_dynasty", [0, 3], "What was Kublai's capital?",
     "Kublai adopted Xingzhou as his capital city [2].", F, "other_place"),
    # --- SQuAD: Economic inequality -----------------------------------------------------------------
    ("Economic_inequality", [1], "How wealthy are the top 400 richest Americans?",
     "According to PolitiFact, the top 400 richest Americans have more wealth than half of all Americans combined [1].", T, "correct"),
    ("Economic_inequality", [1], "How wealthy are the top 400 richest Americans?",
     "According to the New York Times, the top 400 richest Americans have more wealth than half of all Americans combined [1].", F, "wrong_subject"),
    ("Economic_inequality", [1], "How did the Forbes 400 grow up?",
     "In September 2012, the Institute for Policy Studies said that over 60 percent of the Forbes richest 400 Americans grew up in substantial privilege [1].", T, "correct"),
    ("Economic_inequality", [1], "How much wealth does the richest 1 percent own?",
     "The richest 1 percent in the United States now own more wealth than the bottom 60 percent [1].", F, "swapped_figure"),
    # --- SQuAD: Civil disobedience ------------------------------------------------------------------
    ("Civil_disobedience", [1], "Whom does Antigone defy?",
     "In Sophocles' play Antigone, Antigone defies Creon, the current King of Thebes [1].", T, "correct"),
    ("Civil_disobedience", [1], "Whom does Antigone defy?",
     "In Sophocles' play, Creon defies Antigone [1].", F, "wrong_subject"),
    ("Civil_disobedience", [1], "Who is the current King of Thebes in the play?",
     "Oedipus is the current King of Thebes [1].", F, "wrong_subject"),
    ("Civil_disobedience", [1], "Whose daughter is Antigone?",
     "Antigone is one of the daughters of Oedipus, the former King of Thebes [1].", T, "correct"),
    ("Civil_disobedience", [1], "Is Antigone afraid of death?",
     "Antigone is afraid of the death Creon threatens her with [1].", F, "negation"),
    # --- SQuAD: Private school, Construction, Immune system -----------------------------------------
    ("Private_school", [1], "How much do the most expensive K-12 schools charge?",
     "Annual tuition fees at K-12 schools range up to more than $45,000 at several New England preparatory schools [1].", T, "correct"),
    ("Private_school", [1], "Where do tuition fees reach $45,000?",
     "Tuition fees reach more than $45,000 at several California preparatory schools [1].", F, "other_place"),
    ("Construction", [1], "Who normally manages a large construction job?",
     "An architect normally manages the job [1].", T, "correct"),
    ("Construction", [1], "Who normally manages a large construction job?",
     "A construction manager normally manages the job [1].", F, "wrong_subject"),
    ("Construction", [1], "What are the largest construction projects called?",
     "The largest construction projects are referred to as megaprojects [1].", T, "correct"),
    ("Immune_system", [1], "What is immunodeficiency?",
     "Immunodeficiency occurs when the immune system is less active than normal, resulting in recurring and life-threatening infections [1].", T, "correct"),
    ("Immune_system", [1], "What is immunodeficiency?",
     "Immunodeficiency occurs when the immune system is more active than normal [1].", F, "negation"),
    ("Immune_system", [1], "What causes autoimmunity?",
     "Autoimmunity results from a hyperactive immune system attacking normal tissues as if they were foreign organisms [1].", T, "correct"),
    ("Immune_system", [1], "What causes autoimmunity?",
     "Immunodeficiency results from a hyperactive immune system attacking normal tissues [1].", F, "wrong_subject"),
]


def _seed_passages(key: str) -> list[str]:
    path, chunks = SEED_CHUNKS[key]
    text = (REPO / path).read_text(encoding="utf-8")
    for glued, fixed in _GLUED.items():
        text = text.replace(glued, fixed)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith(_FIRST[key]))
    body = [line for line in lines[start:] if not line.startswith(_PROMOS)]
    return ["\n".join(body[i] for i in chunk) for chunk in chunks]


def build(squad_path: Path) -> list[dict[str, object]]:
    squad = {a["title"]: [p["context"] for p in a["paragraphs"]]
             for a in json.loads(squad_path.read_text(encoding="utf-8"))["data"]}
    rows = []
    counters: dict[str, int] = {}
    for source, paragraphs, question, reply, verdict, kind in CASES:
        if source in SEED_CHUNKS:
            passages, origin = _seed_passages(source), SEED_CHUNKS[source][0]
        else:
            passages = [squad[source][i] for i in paragraphs or []]
            origin = f"squad:{source}#" + ",".join(str(i) for i in paragraphs or [])
        prefix = "s" if source in SEED_CHUNKS else "q"
        counters[prefix] = counters.get(prefix, 0) + 1
        rows.append({"id": f"{prefix}{counters[prefix]:03d}", "kind": kind, "verdict": verdict, "question": question,
                     "reply": reply, "passages": passages, "source": origin, "format": _format(reply)})
    return rows


def _format(reply: str) -> str:
    """Which citation shape the reply uses (so the report can break results down by it)."""
    for name, pattern in (("[^n]", r"\[\^\d+\]"), ("[Passage n]", r"\[Passage \d+\]"), ("(Passage n)", r"\(Passage \d+\)"),
                          ("[n, m]", r"\[\d+,\s*\d+\]"), ("[n][m]", r"\[\d+\]\[\d+\]"), ("[n]", r"\[\d+\]")):
        if re.search(pattern, reply):
            return name
    return "unmarked"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--out", type=Path, default=REPO / "eval" / "claims.jsonl")
    args = parser.parse_args()
    rows = build(args.squad)
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for row in rows:
        kinds[str(row["kind"])] = kinds.get(str(row["kind"]), 0) + 1
    print(f"wrote {len(rows)} cases to {args.out}: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()

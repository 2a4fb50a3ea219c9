"""Content of the demo corpus's storylines: invented people, places, developments, facts and quotes.

Data only; recsys.demo_corpus turns it into articles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------------
# Storyline content
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    role: str


@dataclass(frozen=True)
class Development:
    headline: str
    lead: str
    detail: str  # what only this development adds, so pieces of one storyline stay distinct
    section: str | None = None  # a few storylines spill into a neighbouring section


@dataclass(frozen=True)
class Storyline:
    slug: str
    section: str
    dateline: str
    tags: tuple[str, ...]
    extra_tags: tuple[str, ...]
    start: dt.date
    span_days: int
    # >1 bunches coverage at the start, as with a breaking event (a flood, a fire).
    front_loading: float
    people: Mapping[str, Person]
    developments: tuple[Development, ...]
    facts: tuple[str, ...]
    quotes: tuple[tuple[str, str], ...]  # (person key, words)
    outlook: tuple[str, ...]


_D = Development
_P = Person

STORYLINES: tuple[Storyline, ...] = (
    Storyline(
        slug="harbour-bridge-toll",
        section="politics",
        dateline="PORT AVERY",
        tags=("transport", "port-avery", "harbour-bridge"),
        extra_tags=("tolls", "council", "commuters", "budget"),
        start=dt.date(2026, 1, 12),
        span_days=70,
        front_loading=1.0,
        people={
            "mayor": _P("Helena Strand", "the mayor of Port Avery"),
            "opp": _P("Desmond Okafor", "leader of the opposition group on Port Avery Council"),
            "campaign": _P("Rita Vance", "chair of the Port Avery Commuters' Alliance"),
            "expert": _P("Owen Pryce", "a transport economist at Avery Polytechnic"),
            "haulier": _P("Gemma Lott", "who runs a haulage firm on the Port Avery Quayside"),
        },
        developments=(
            _D(
                "Port Avery council proposes Harbour Bridge toll rise",
                "Port Avery Council has proposed raising the toll on the Harbour Bridge for the first time "
                "in a decade, saying the money is needed for urgent repairs to the crossing.",
                "The proposal will go before a full council meeting in March after a six-week consultation "
                "with residents and businesses.",
            ),
            _D(
                "Commuters launch campaign against Harbour Bridge toll increase",
                "A group of Port Avery commuters has launched a campaign against the planned Harbour Bridge "
                "toll increase, collecting thousands of signatures in its first weekend.",
                "The petition, started by Rita Vance after a conversation with colleagues on a night shift, "
                "had more than 6,000 names by Monday.",
            ),
            _D(
                "Hauliers warn Harbour Bridge toll will push up prices in Port Avery",
                "Haulage firms on the Port Avery Quayside have warned that a higher Harbour Bridge toll for "
                "lorries would be passed on to shops and their customers.",
                "The Quayside Traders' Group says the cost of a typical delivery run across the city would "
                "rise by as much as 15 per cent.",
            ),
            _D(
                "Engineers reveal scale of cable corrosion on Harbour Bridge",
                "An engineering report published by Port Avery Council has found corrosion in several of "
                "the Harbour Bridge's main cables, strengthening the council's case for a higher toll.",
                "Inspectors found rust on 14 of the 36 cable anchorages and recommended weight limits for "
                "the heaviest lorries until repairs are done.",
            ),
            _D(
                "Opposition demands delay to Harbour Bridge toll vote",
                "Opposition councillors in Port Avery have called for the Harbour Bridge toll vote to be "
                "postponed until an independent review of the repair costs is completed.",
                "A motion calling for the delay was defeated by three votes at an ill-tempered meeting of "
                "the finance committee.",
            ),
            _D(
                "Hundreds march across Harbour Bridge in toll protest",
                "Several hundred people marched across the Harbour Bridge on Saturday morning to protest "
                "against the proposed toll rise, briefly halting traffic into Port Avery.",
                "Police closed the northbound carriageway for an hour as marchers carried banners reading "
                "'No to the bridge tax'.",
            ),
            _D(
                "Port Avery mayor offers key worker discount on bridge toll",
                "The mayor of Port Avery has offered nurses, carers and other key workers a discount on the "
                "Harbour Bridge toll in an attempt to win over wavering councillors.",
                "The discount would cut the cost of a crossing to £2.50 for around 9,000 registered key "
                "workers.",
            ),
            _D(
                "Port Avery council approves Harbour Bridge toll rise by narrow margin",
                "Port Avery Council has voted 28 to 26 to approve the Harbour Bridge toll increase after a "
                "five-hour debate in a packed council chamber.",
                "Two members of the ruling coalition voted against the plan, and one abstained after the "
                "mayor's late concessions.",
            ),
            _D(
                "Campaigners consider legal challenge to Harbour Bridge toll",
                "The Port Avery Commuters' Alliance says it is taking legal advice on whether the council's "
                "decision to raise the Harbour Bridge toll can be challenged in court.",
                "Lawyers for the alliance believe the council may not have consulted properly on the impact "
                "on low-paid workers.",
            ),
            _D(
                "Harbour Bridge traffic falls in first week of higher toll",
                "Traffic on the Harbour Bridge fell by around eight per cent in the first week of the new "
                "toll, according to figures released by Port Avery Council.",
                "The biggest drop was among vans and lorries, while the number of buses crossing the bridge "
                "was unchanged.",
            ),
            _D(
                "Analysis: what the Harbour Bridge toll fight says about Port Avery",
                "The bitter fight over the Harbour Bridge toll has exposed a deep divide between Port "
                "Avery's ruling coalition and the commuters of the city's northern suburbs.",
                "Councillors from the northern wards, where most commuters live, voted almost unanimously "
                "against the increase.",
            ),
            _D(
                "Salter Road tunnel queues grow as drivers dodge Harbour Bridge toll",
                "Drivers avoiding the Harbour Bridge toll have caused longer queues in Port Avery's Salter "
                "Road tunnel, with rush-hour journey times up by a third.",
                "Some drivers report waiting more than 20 minutes to enter the tunnel, which was never "
                "designed for the extra traffic.",
            ),
        ),
        facts=(
            "The Harbour Bridge carries about 48,000 vehicles a day between the Quayside and the northern "
            "suburbs of Port Avery.",
            "Under the plan the toll for cars rises from £2 to £3.50, with vans and lorries paying up to £9.",
            "The council says the Harbour Bridge needs £140m of repairs to its cables and deck over the "
            "next decade.",
            "Regular commuters pay £38 a month for a discounted Harbour Bridge pass.",
            "Tolls on the Harbour Bridge were introduced in 1987 to pay for its construction and were never "
            "removed.",
            "The only free alternative, the Salter Road tunnel, adds around 25 minutes to a rush-hour "
            "journey across Port Avery.",
            "Council officers estimate that the higher toll would raise an extra £11m a year.",
            "Residents of the Cobble Wharf estate, the neighbourhood closest to the bridge, would get a 50 "
            "per cent discount.",
            "Buses crossing the Harbour Bridge are exempt from the toll increase.",
            "Port Avery Council has 54 members, and the ruling coalition holds 29 seats.",
            "Queues for the Harbour Bridge regularly stretch back to the Ropewalk roundabout at peak times.",
        ),
        quotes=(
            (
                "mayor",
                "The bridge is ageing and the repair bill will not pay itself. A fair toll is the "
                "honest way to keep the Harbour Bridge open.",
            ),
            (
                "opp",
                "This is a tax on people who have no other way of getting to work, and the council knows it.",
            ),
            (
                "campaign",
                "Our members are nurses, cleaners and shift workers. They cannot switch to a tunnel "
                "that adds half an hour to every trip.",
            ),
            (
                "expert",
                "Toll rises usually cut traffic by a few per cent at first, but drivers tend to drift "
                "back within a year.",
            ),
            (
                "haulier",
                "Nine pounds a crossing, several times a day, is the difference between profit and "
                "loss for a small haulier.",
            ),
            (
                "mayor",
                "We have listened, and the discounts for Cobble Wharf residents and key workers show that.",
            ),
            (
                "opp",
                "Councillors were given the repair figures less than a week before the vote. That is "
                "not proper scrutiny.",
            ),
        ),
        outlook=(
            "The council's transport committee will review the toll's effect on traffic after six months.",
            "Campaigners say they will keep up the pressure on Port Avery councillors ahead of next year's "
            "local elections.",
            "A full repair programme for the Harbour Bridge is expected to begin in the summer.",
            "The Commuters' Alliance plans further meetings in the northern suburbs over the coming weeks.",
        ),
    ),
    Storyline(
        slug="westmoor-by-election",
        section="politics",
        dateline="WESTMOOR",
        tags=("elections", "westmoor", "by-election"),
        extra_tags=("parliament", "polls", "campaign", "progress-party", "civic-league"),
        start=dt.date(2026, 2, 2),
        span_days=56,
        front_loading=1.0,
        people={
            "lindqvist": _P("Amara Lindqvist", "the Progress Party candidate in Westmoor"),
            "reed": _P("Tobias Reed", "the Civic League candidate"),
            "farrant": _P("Nell Farrant", "the independent candidate and a former Westmoor headteacher"),
            "pollster": _P("Martin Achebe", "a pollster at Stratton Research"),
            "officer": _P("Carol Dunne", "Westmoor's returning officer"),
        },
        developments=(
            _D(
                "Westmoor MP Gordon Pike resigns, triggering by-election",
                "Gordon Pike, the Civic League member of parliament for Westmoor, has resigned after 22 "
                "years, triggering a by-election in the market town.",
                "Gordon Pike, 67, said he wanted to spend more time with his family and would not endorse a "
                "successor.",
            ),
            _D(
                "Progress Party picks Amara Lindqvist for Westmoor by-election",
                "The Progress Party has chosen Amara Lindqvist, a Westmoor solicitor and former district "
                "councillor, as its candidate in the by-election.",
                "Ms Lindqvist, 41, grew up on the town's Fairfield estate and led the campaign to save the "
                "cottage hospital.",
            ),
            _D(
                "Civic League names farmer Tobias Reed as Westmoor candidate",
                "The Civic League has selected Tobias Reed, a farmer and county councillor, to defend its "
                "seat in the Westmoor by-election.",
                "Mr Reed, whose family has farmed near Westmoor for four generations, won a selection vote "
                "of local party members.",
            ),
            _D(
                "Former headteacher Nell Farrant to stand as independent in Westmoor",
                "Nell Farrant, who ran Westmoor's largest secondary school for fifteen years, will stand as "
                "an independent in the by-election, saying the villages have been ignored.",
                "Ms Farrant has raised more than £20,000 in small donations and says she will not accept "
                "money from any party.",
            ),
            _D(
                "Maternity unit closure dominates Westmoor by-election campaign",
                "The closure of the maternity unit at Westmoor's cottage hospital has become the central "
                "issue of the by-election campaign, candidates from all sides say.",
                "Campaigners say the nearest maternity unit is now a 40-minute drive away on roads that "
                "often flood in winter.",
            ),
            _D(
                "Westmoor hustings draws packed crowd to Corn Exchange",
                "More than 600 people crowded into the Westmoor Corn Exchange for the only hustings of the "
                "by-election campaign, where tempers flared over village bus cuts.",
                "Candidates were asked about the loss of the Westmoor to Hallam Cross bus route, which left "
                "two villages without any service.",
            ),
            _D(
                "Poll puts Progress Party eight points ahead in Westmoor",
                "A poll by Stratton Research puts Amara Lindqvist of the Progress Party eight points ahead "
                "in Westmoor, a swing that would overturn a Civic League majority of 6,400.",
                "The survey of 812 Westmoor voters found that Civic League support had fallen by eleven "
                "points since the general election.",
            ),
            _D(
                "Party leaders descend on Westmoor for final weekend of campaign",
                "The leaders of both main parties campaigned in Westmoor's market square on the last "
                "weekend before polling day in the by-election.",
                "Volunteers from across the country have been bussed in to deliver leaflets to every home "
                "in the constituency.",
            ),
            _D(
                "Westmoor votes in closely watched by-election",
                "Polls have opened in the Westmoor by-election, seen as the first real test of public "
                "opinion this year for both the Civic League and the Progress Party.",
                "Polling stations in Westmoor's schools, church halls and village pubs will stay open until "
                "ten o'clock tonight.",
            ),
            _D(
                "Progress Party's Amara Lindqvist wins Westmoor by-election",
                "Amara Lindqvist has won the Westmoor by-election for the Progress Party, overturning a "
                "Civic League majority of 6,400 in the early hours of the morning.",
                "Ms Lindqvist won 19,842 votes to Mr Reed's 15,210, with Nell Farrant a strong third on "
                "7,905.",
            ),
            _D(
                "Civic League begins inquest after losing Westmoor",
                "Senior Civic League figures have begun asking what went wrong in Westmoor after the party "
                "lost a seat it had held for half a century.",
                "Some party members blame the national leadership, while others say Tobias Reed's campaign "
                "ignored younger voters.",
            ),
            _D(
                "New Westmoor MP uses maiden speech to fight for cottage hospital",
                "Amara Lindqvist used her maiden speech as Westmoor's member of parliament to call for the "
                "town's cottage hospital maternity unit to be reopened.",
                "Ms Lindqvist told the chamber that expectant mothers in Westmoor were being asked to "
                "gamble with their safety.",
            ),
        ),
        facts=(
            "Gordon Pike held Westmoor for the Civic League with a majority of 6,400 at the last general "
            "election.",
            "Westmoor has about 71,000 registered voters across the market town and a dozen villages.",
            "Turnout in Westmoor at the last general election was 68 per cent.",
            "The maternity unit at Westmoor cottage hospital closed last autumn, leaving mothers a 40-mile "
            "drive to the nearest one.",
            "Bus services to the villages around Westmoor have been cut by almost half in five years.",
            "Seven candidates are standing in the Westmoor by-election.",
            "The Westmoor count takes place overnight at the Corn Exchange on the market square.",
            "The Progress Party has not won Westmoor since 1974.",
            "Canvassers from both main parties have been knocking on doors in Westmoor every evening.",
            "Postal votes make up roughly a fifth of all ballots cast in Westmoor.",
        ),
        quotes=(
            (
                "lindqvist",
                "People in Westmoor feel they have been taken for granted for twenty years. I want "
                "to be the MP who actually turns up.",
            ),
            (
                "reed",
                "Westmoor needs someone with experience who can fight for the cottage hospital from day one.",
            ),
            ("farrant", "I am standing because neither of the big parties has a plan for the villages."),
            (
                "pollster",
                "By-elections are hard to poll, but the swing we are seeing in Westmoor is unusually large.",
            ),
            ("officer", "We expect the first ballot boxes to reach the Corn Exchange shortly after ten."),
            (
                "lindqvist",
                "The maternity unit closure was the moment many voters here stopped trusting the "
                "Civic League.",
            ),
            (
                "reed",
                "Polls do not vote. I have knocked on thousands of doors in Westmoor and I hear "
                "something very different.",
            ),
        ),
        outlook=(
            "The result will be studied closely by both parties ahead of the general election.",
            "Campaign teams say they will concentrate on the outlying villages in the final days.",
            "Both main parties have poured volunteers and money into the Westmoor seat.",
            "Turnout in by-elections is usually well below that of a general election.",
        ),
    ),
    Storyline(
        slug="renters-charter",
        section="politics",
        dateline="WESTMINSTER",
        tags=("housing", "parliament", "renters-charter"),
        extra_tags=("tenants", "landlords", "rents", "evictions"),
        start=dt.date(2026, 1, 8),
        span_days=100,
        front_loading=1.0,
        people={
            "minister": _P("Celia Marchetti", "the housing minister"),
            "union": _P("Femi Adeyemi", "general secretary of the National Tenants Union"),
            "landlords": _P("Gareth Holm", "chief executive of the Landlords Federation"),
            "chair": _P("Ruth Okonkwo", "chair of the housing select committee"),
        },
        developments=(
            _D(
                "Government publishes long-awaited Renters' Charter bill",
                "The government has published its Renters' Charter bill, which would ban no-fault evictions "
                "and limit rent increases for private tenants to once a year.",
                "The bill runs to 140 pages and is expected to take most of the parliamentary year to pass.",
            ),
            _D(
                "Tenants union welcomes Renters' Charter but wants tougher rent cap",
                "The National Tenants Union has welcomed the Renters' Charter but says the bill's limit on "
                "rent increases is too weak to protect tenants from steep rises.",
                "The union wants increases limited to the rate of inflation, rather than the market rate "
                "allowed by the bill.",
            ),
            _D(
                "Landlords warn Renters' Charter will shrink rental market",
                "The Landlords Federation has warned that the Renters' Charter could drive small landlords "
                "to sell up, reducing the number of homes available to rent.",
                "A survey of 2,000 of its members found that one in five planned to sell at least one "
                "property if the bill became law.",
            ),
            _D(
                "Renters' Charter passes second reading in parliament",
                "The Renters' Charter has passed its second reading in parliament by a large majority after "
                "a debate in which MPs shared stories of tenants evicted at short notice.",
                "MPs voted 342 to 171 in favour, with most opposition members supporting the principle of "
                "the bill.",
            ),
            _D(
                "MPs question housing ombudsman plans in Renters' Charter",
                "Members of the housing select committee have questioned whether the ombudsman created by "
                "the Renters' Charter will have enough power to make landlords comply.",
                "The ombudsman would be funded by a fee of £40 a year paid by every registered landlord.",
            ),
            _D(
                "Renters share eviction stories as Charter debate goes on",
                "Private tenants facing no-fault evictions have described months of uncertainty as the "
                "Renters' Charter makes its way through parliament.",
                "One mother of two told MPs she had moved four times in six years after receiving no-fault "
                "notices.",
            ),
            _D(
                "Government amends Renters' Charter to reassure landlords",
                "The housing minister has tabled amendments to the Renters' Charter allowing landlords to "
                "regain a property more quickly when tenants fall into serious rent arrears.",
                "The changes would let courts fast-track possession cases where tenants owe more than three "
                "months' rent.",
            ),
            _D(
                "Backbench rebellion over Renters' Charter rent cap fizzles out",
                "A threatened backbench rebellion over the rent cap in the Renters' Charter came to little, "
                "with only a handful of MPs voting against the government.",
                "An amendment to tie rent increases to inflation was rejected by 301 votes to 97.",
            ),
            _D(
                "Renters' Charter clears final vote in parliament",
                "The Renters' Charter has cleared its final vote in parliament and will become law, ending "
                "no-fault evictions for millions of private tenants.",
                "The bill is expected to receive royal assent within weeks, with the first changes taking "
                "effect in the autumn.",
            ),
            _D(
                "Explainer: what the Renters' Charter means for tenants and landlords",
                "The Renters' Charter changes the rules for private renting in several ways, from evictions "
                "and rent rises to pets, repairs and a new landlord register.",
                "Tenants with existing agreements will move onto the new rolling tenancies on a set date "
                "next year.",
            ),
            _D(
                "National landlord register opens under Renters' Charter",
                "Landlords can now sign up to the national register created by the Renters' Charter, and "
                "those who fail to do so within six months face heavy fines.",
                "Registration costs £40 per property a year and requires landlords to upload gas and "
                "electrical safety certificates.",
            ),
        ),
        facts=(
            "The Renters' Charter would end no-fault evictions and limit rent increases to once a year.",
            "Around 4.6 million households rent their home from a private landlord.",
            "Average private rents have risen by nine per cent over the past year.",
            "Landlords who fail to join the national register face fines of up to £30,000.",
            "Tenants would gain the right to ask to keep a pet, which a landlord could refuse only with "
            "good reason.",
            "Landlords would have to give four months' notice when selling a rented home.",
            "The Renters' Charter was first promised in the government's manifesto three years ago.",
            "A new housing ombudsman would settle disputes between tenants and landlords.",
            "Minimum standards on damp and mould would apply to privately rented homes for the first time.",
            "Section 21 notices, used for no-fault evictions, rose by a quarter last year.",
        ),
        quotes=(
            (
                "minister",
                "For too long renters have lived one letter away from losing their home. The "
                "Renters' Charter changes that.",
            ),
            (
                "union",
                "The Charter is a good start, but a rent cap that landlords can game is not really a "
                "cap at all.",
            ),
            (
                "landlords",
                "If the rules become unworkable, small landlords will sell up and there will be "
                "fewer homes to rent.",
            ),
            ("chair", "The committee wants to be sure the ombudsman has the teeth to make landlords comply."),
            ("minister", "We will not water down the ban on no-fault evictions."),
            ("union", "Every week of delay means more families are served with eviction notices."),
            (
                "landlords",
                "Most landlords own one or two properties. They are not the villains of this story.",
            ),
        ),
        outlook=(
            "Ministers hope the new rules for tenants will be in force by the end of the year.",
            "The Landlords Federation says it will keep lobbying for changes to the rent rules.",
            "Tenant groups plan to monitor how landlords respond once the Charter takes effect.",
            "Letting agents expect a busy year as landlords review their tenancy agreements.",
        ),
    ),
    Storyline(
        slug="kestrel-battery-plant",
        section="business",
        dateline="GREYFORD",
        tags=("manufacturing", "kestrel-motors", "ashby-fields"),
        extra_tags=("electric-vehicles", "jobs", "batteries", "investment", "greyford"),
        start=dt.date(2026, 1, 20),
        span_days=80,
        front_loading=1.0,
        people={
            "ceo": _P("Viktor Haldane", "chief executive of Kestrel Motors"),
            "union": _P("Jess Carrow", "a regional organiser for the Unity Works union"),
            "council": _P("Paul Merriman", "leader of Greyford Shire Council"),
            "analyst": _P("Sanjay Rao", "a car industry analyst at Holloway Capital"),
            "residents": _P("Brenda Clough", "chair of the Ashby Fields Residents Association"),
        },
        developments=(
            _D(
                "Kestrel Motors confirms battery plant at Ashby Fields",
                "Kestrel Motors has confirmed it will build a battery cell plant on the former Ashby Fields "
                "airfield near Greyford, its largest investment in decades.",
                "The company chose Ashby Fields over a rival site abroad after months of negotiations with "
                "ministers.",
            ),
            _D(
                "Government grant helped land Kestrel battery plant, minister says",
                "The business minister has said a government grant was decisive in persuading Kestrel "
                "Motors to build its battery plant at Ashby Fields rather than abroad.",
                "Speaking in parliament, the minister said the £250m grant would be repaid many times over "
                "in taxes and wages.",
                section="politics",
            ),
            _D(
                "Greyford celebrates Kestrel Motors gigafactory jobs",
                "Shops and businesses in Greyford have welcomed the Kestrel Motors battery plant, which is "
                "expected to bring thousands of jobs to the town.",
                "The Greyford Chamber of Commerce says suppliers and shops could gain another 4,000 jobs "
                "indirectly.",
            ),
            _D(
                "Ashby Fields residents raise traffic fears over Kestrel plant",
                "Villagers near Ashby Fields say lorries serving the Kestrel Motors battery plant would "
                "overwhelm narrow lanes that were never built for heavy traffic.",
                "A meeting in the village hall at Ashby End drew more than 300 people, many worried about "
                "lorries passing the primary school.",
                section="local",
            ),
            _D(
                "Kestrel Motors shares jump after battery plant news",
                "Shares in Kestrel Motors rose sharply after the carmaker confirmed its Ashby Fields "
                "battery plant, with investors betting on lower costs for its electric cars.",
                "Kestrel's share price closed up nine per cent, its biggest one-day rise in more than three "
                "years.",
            ),
            _D(
                "Union seeks recognition deal at Kestrel battery plant",
                "The Unity Works union has asked Kestrel Motors to agree a recognition deal covering staff "
                "at the Ashby Fields battery plant before hiring begins.",
                "The union says agency workers make up nearly a third of the workforce at Kestrel's "
                "existing Greyford works.",
            ),
            _D(
                "Kestrel Motors submits planning application for Ashby Fields",
                "Kestrel Motors has submitted a detailed planning application to Greyford Shire Council for "
                "its battery cell plant and a new link road at Ashby Fields.",
                "The application runs to 3,000 pages and includes solar panels on the factory roofs and a "
                "new wetland for wildlife.",
            ),
            _D(
                "Analysis: can Kestrel Motors afford its battery bet?",
                "The Ashby Fields battery plant is a huge wager for a mid-sized carmaker, and Kestrel "
                "Motors will need strong electric car sales to pay for it.",
                "The company's debts have risen by £600m over two years, and its profit margins are thinner "
                "than those of larger rivals.",
            ),
            _D(
                "Greyford college launches battery technician course",
                "Greyford College is launching a course for battery technicians, with Kestrel Motors "
                "promising interviews at its Ashby Fields plant to those who complete it.",
                "The first 60 students will start in September, and the course includes six months of paid "
                "work placements.",
            ),
            _D(
                "Planners approve Kestrel Motors battery plant",
                "Greyford Shire Council's planning committee has approved the Kestrel Motors battery plant "
                "at Ashby Fields, subject to limits on lorry movements at night.",
                "Councillors added conditions limiting lorries to the new link road and banning deliveries "
                "between 11pm and 6am.",
            ),
            _D(
                "Kestrel Motors breaks ground at Ashby Fields",
                "Construction of the Kestrel Motors battery plant has begun at Ashby Fields, with diggers "
                "clearing the old airfield runway.",
                "The first phase covers the cell factory itself, with a recycling plant for old batteries "
                "to follow later.",
            ),
            _D(
                "Kestrel Motors signs lithium supply deal for battery plant",
                "Kestrel Motors has signed a ten-year lithium supply contract to feed its Ashby Fields "
                "battery plant, securing the raw material at a fixed price.",
                "The lithium will be refined before shipping, and Kestrel says the contract protects it "
                "against sharp swings in prices.",
            ),
        ),
        facts=(
            "Kestrel Motors plans to invest £1.8bn in the Ashby Fields battery plant.",
            "The plant would make battery cells for up to 300,000 electric cars a year.",
            "Kestrel Motors says the plant would employ 2,400 people directly at full capacity.",
            "The Ashby Fields site is a former airfield of 120 hectares on the edge of Greyford.",
            "The government has offered a grant of £250m towards the battery plant.",
            "Kestrel Motors assembles its Kite hatchback and Falcon estate at its older Greyford works.",
            "Battery cells account for around a third of the cost of an electric car.",
            "Lorries would reach the plant by a new link road from the Greyford bypass.",
            "Kestrel Motors sold 84,000 electric cars last year, up from 51,000 the year before.",
            "The plant would use lithium iron phosphate cells, which avoid cobalt and nickel.",
        ),
        quotes=(
            (
                "ceo",
                "Ashby Fields will be the heart of Kestrel Motors for the next thirty years. Building "
                "batteries here means building cars here.",
            ),
            ("union", "These must be good, unionised jobs, not short contracts through agencies."),
            ("council", "This is the biggest investment Greyford has seen in a generation."),
            (
                "analyst",
                "Kestrel needs its own battery supply to compete on price. Without Ashby Fields it "
                "gets squeezed.",
            ),
            (
                "residents",
                "Nobody is against jobs, but people here were never asked about hundreds of "
                "lorries a day on village lanes.",
            ),
            ("ceo", "The grant mattered, but it was not the only reason we chose Ashby Fields."),
        ),
        outlook=(
            "Kestrel Motors expects the first battery cells to come off the line in 2028.",
            "Recruitment for the first 600 jobs at the plant is due to start next year.",
            "Suppliers are already looking for sites near Greyford to serve the battery plant.",
            "The company will publish its annual results, including the plant's costs, in the spring.",
        ),
    ),
    Storyline(
        slug="brightwell-corran-merger",
        section="business",
        dateline="LONDON",
        tags=("banking", "brightwell-bank", "corran-mutual"),
        extra_tags=("mergers", "mortgages", "savers", "regulation", "competition-office"),
        start=dt.date(2026, 1, 6),
        span_days=95,
        front_loading=1.0,
        people={
            "ceo": _P("Laura Kincaid", "chief executive of Brightwell Bank"),
            "chair": _P("Hamish Dow", "chairman of Corran Mutual"),
            "regulator": _P("Anil Mehta", "head of mergers at the Competition Office"),
            "campaign": _P("Sheila Moffat", "founder of the Keep Corran Mutual campaign"),
            "analyst": _P("Rebecca Stone", "a banking analyst at Farrow Partners"),
        },
        developments=(
            _D(
                "Brightwell Bank agrees £2.3bn takeover of Corran Mutual",
                "Brightwell Bank has agreed to buy the Corran Mutual building society for £2.3bn, creating "
                "one of the country's largest mortgage lenders.",
                "The boards of both lenders have recommended the deal, which still needs the approval of "
                "Corran's members and regulators.",
            ),
            _D(
                "Corran Mutual members promised windfall in Brightwell deal",
                "Members of Corran Mutual would each receive a cash windfall of around £1,200 if the "
                "takeover by Brightwell Bank goes ahead.",
                "The payout would be larger for members who have held accounts with Corran Mutual for more "
                "than five years.",
            ),
            _D(
                "Campaign launched to keep Corran Mutual independent",
                "A group of long-standing Corran Mutual savers has launched a campaign urging members to "
                "vote against the takeover by Brightwell Bank.",
                "The campaigners have written to every member urging them to keep the society in members' "
                "hands.",
            ),
            _D(
                "Competition Office opens inquiry into Brightwell-Corran merger",
                "The Competition Office has opened an inquiry into Brightwell Bank's takeover of Corran "
                "Mutual, citing concerns about choice for mortgage borrowers.",
                "The inquiry will look in particular at mortgage lending in towns where both Brightwell and "
                "Corran have branches.",
            ),
            _D(
                "Brightwell pledges no Corran branch closures for two years",
                "Brightwell Bank has promised to keep every Corran Mutual branch open for at least two "
                "years after the takeover, in an attempt to win over members.",
                "The promise covers all 140 Corran branches, although Brightwell will not rule out closures "
                "after the two years.",
            ),
            _D(
                "Analysts question price Brightwell is paying for Corran Mutual",
                "City analysts have questioned whether Brightwell Bank is overpaying for Corran Mutual at a "
                "time when mortgage margins are shrinking.",
                "The price is about 1.4 times the value of Corran's assets, a higher multiple than most "
                "recent banking deals.",
            ),
            _D(
                "Corran Mutual members vote in favour of Brightwell takeover",
                "Members of Corran Mutual have voted by 81 per cent to accept the takeover by Brightwell "
                "Bank, comfortably above the threshold needed.",
                "Turnout among members was 46 per cent, the highest in the building society's history.",
            ),
            _D(
                "Competition Office raises concerns over Brightwell mortgage share",
                "The Competition Office has warned that the combined Brightwell and Corran group would hold "
                "too large a share of mortgages in northern coastal towns.",
                "In some harbour towns the combined group would write more than half of all new mortgages.",
            ),
            _D(
                "Brightwell offers to sell mortgage book to win merger approval",
                "Brightwell Bank has offered to sell part of its mortgage book to a rival lender to address "
                "the Competition Office's concerns about the Corran Mutual deal.",
                "The portfolio of around 30,000 mortgages, mostly in the north-east, would go to a smaller "
                "rival lender.",
            ),
            _D(
                "Competition Office clears Brightwell takeover of Corran Mutual",
                "The Competition Office has cleared Brightwell Bank's takeover of Corran Mutual after the "
                "bank agreed to sell a portfolio of mortgages.",
                "The Competition Office said the sale of the mortgage portfolio fully addressed its "
                "concerns about choice for borrowers.",
            ),
            _D(
                "Corran Mutual name to disappear from high streets next year",
                "The Corran Mutual name will vanish from high streets next year as its branches are "
                "rebranded as Brightwell Bank following the takeover.",
                "Signs will be replaced branch by branch, and customers' account numbers and sort codes "
                "will stay the same.",
            ),
        ),
        facts=(
            "Corran Mutual has 1.9 million members and 140 branches, mostly in the north and in coastal "
            "towns.",
            "The takeover values Corran Mutual at £2.3bn.",
            "Each Corran Mutual member would receive a windfall of around £1,200.",
            "The combined group would be the country's fifth largest mortgage lender.",
            "The deal needs the support of 75 per cent of Corran Mutual members who vote.",
            "Corran Mutual was founded in 1862 by a group of shipyard workers.",
            "The Competition Office can block mergers that substantially reduce competition.",
            "Shares in Brightwell Bank have risen by 14 per cent this year.",
            "Corran Mutual savers currently earn some of the highest easy-access rates on the market.",
        ),
        quotes=(
            (
                "ceo",
                "Corran's members get a fair price and the security of a bigger balance sheet. This is "
                "good for savers and borrowers alike.",
            ),
            (
                "chair",
                "The board believes that joining Brightwell is the best way to protect Corran's "
                "members in a tougher market.",
            ),
            (
                "regulator",
                "We need to be sure that mortgage borrowers will still have a real choice of "
                "lender after this deal.",
            ),
            (
                "campaign",
                "Corran Mutual has served this coast for 160 years. A one-off payment is no "
                "substitute for a mutual that belongs to its members.",
            ),
            (
                "analyst",
                "Brightwell is paying a full price. The deal only works if it can cut costs quickly.",
            ),
            ("ceo", "Branches matter to Corran members, and they will stay open."),
        ),
        outlook=(
            "The takeover is expected to complete by the end of the year.",
            "Corran Mutual members will receive their windfall payments within weeks of completion.",
            "Brightwell will publish its half-year results, including integration costs, in the summer.",
            "Staff at Corran's head office have been told their jobs are safe for at least a year.",
        ),
    ),
    Storyline(
        slug="tallis-airways-strike",
        section="business",
        dateline="GLENHAVEN",
        tags=("aviation", "tallis-airways", "strikes"),
        extra_tags=("travel", "pay", "unions", "glenhaven-airport"),
        start=dt.date(2026, 2, 16),
        span_days=50,
        front_loading=1.0,
        people={
            "ceo": _P("Marcus Fell", "chief executive of Tallis Airways"),
            "union": _P("Donna Whitlock", "general secretary of the Skyline Crew Union"),
            "airport": _P("Irene Castell", "managing director of Glenhaven Airport"),
            "analyst": _P("Philip Osei", "an aviation analyst"),
            "crew": _P("Lauren Pike", "a Tallis Airways flight attendant for eleven years"),
        },
        developments=(
            _D(
                "Tallis Airways cabin crew vote to strike over pay",
                "Cabin crew at Tallis Airways have voted to strike in a dispute over pay, raising the "
                "prospect of widespread flight cancellations from Glenhaven Airport.",
                "The ballot closed on Friday, and the union must give two weeks' notice before any walkout.",
            ),
            _D(
                "Tallis Airways strike dates set for half-term holiday",
                "The Skyline Crew Union has announced that Tallis Airways cabin crew will strike on four "
                "days during the half-term school holiday.",
                "The strike days fall on the busiest weekend of the holiday, when Tallis carries around "
                "30,000 passengers a day.",
            ),
            _D(
                "Tallis Airways cancels 400 flights ahead of cabin crew strike",
                "Tallis Airways has cancelled around 400 flights scheduled during the cabin crew strike, "
                "affecting tens of thousands of passengers.",
                "The airline says it will try to run flights to its most popular destinations using "
                "managers trained as crew.",
            ),
            _D(
                "Passengers scramble to rebook as Tallis strike nears",
                "Families with half-term holidays booked on Tallis Airways have been scrambling to find "
                "other flights as the cabin crew strike approaches.",
                "Rival airlines have added extra flights from Glenhaven, but fares for the half-term week "
                "have more than doubled.",
            ),
            _D(
                "First Tallis Airways strike grounds most flights at Glenhaven",
                "Most Tallis Airways flights from Glenhaven Airport were grounded on the first day of the "
                "cabin crew strike, leaving check-in halls almost empty.",
                "Only 22 Tallis flights left Glenhaven Airport on Saturday, compared with a normal 180, and "
                "pickets gathered outside the crew centre.",
            ),
            _D(
                "Tallis Airways boss says crew pay demand would cost jobs",
                "The chief executive of Tallis Airways has said meeting the cabin crew union's pay demand "
                "would force the airline to cut routes and jobs.",
                "Marcus Fell told staff in an email that Tallis would have to close routes to smaller "
                "airports if the claim were met.",
            ),
            _D(
                "Talks between Tallis Airways and crew union collapse",
                "Talks aimed at ending the Tallis Airways cabin crew dispute have collapsed after twelve "
                "hours, with each side blaming the other.",
                "The talks were held at the offices of an independent conciliation service and broke up "
                "shortly before midnight.",
            ),
            _D(
                "Second wave of Tallis Airways strikes announced",
                "The Skyline Crew Union has announced a second wave of strikes at Tallis Airways, covering "
                "the start of the Easter holidays.",
                "The new walkouts would cover five days at the start of the Easter holidays, one of the "
                "busiest weeks of the year.",
            ),
            _D(
                "Tallis strike has cost airline £40m, analysts estimate",
                "The cabin crew strike has cost Tallis Airways around £40m in lost revenue and "
                "compensation, according to estimates by aviation analysts.",
                "The estimate includes refunds, hotel costs for stranded passengers and bookings lost to "
                "other airlines.",
            ),
            _D(
                "Tallis Airways and cabin crew union reach pay deal",
                "Tallis Airways and the Skyline Crew Union have reached a provisional pay deal, suspending "
                "the second wave of strikes.",
                "Under the deal, crew would receive a nine per cent rise over two years and an extra day of "
                "annual leave.",
            ),
            _D(
                "Tallis cabin crew accept pay offer, ending dispute",
                "Cabin crew at Tallis Airways have voted to accept the airline's improved pay offer, "
                "formally ending the strike dispute.",
                "More than 80 per cent of crew who voted backed the deal, and normal schedules resume from "
                "Monday.",
            ),
        ),
        facts=(
            "Tallis Airways operates about 180 flights a day from its base at Glenhaven Airport.",
            "Cabin crew are seeking a pay rise of 12 per cent, while Tallis offered five per cent over two "
            "years.",
            "About 3,200 Tallis Airways cabin crew are members of the Skyline Crew Union.",
            "Starting salaries for Tallis cabin crew are £21,000 a year.",
            "Tallis Airways reported a record profit of £310m last year.",
            "In the strike ballot, 87 per cent of union members who voted backed action.",
            "Passengers on cancelled Tallis flights are entitled to a refund or a seat on another flight.",
            "Tallis Airways flies to 64 destinations, mostly in Europe and North Africa.",
            "Tallis is the largest airline at Glenhaven Airport, with more than half of its departures.",
        ),
        quotes=(
            ("ceo", "We value our crew, but a 12 per cent rise is simply not affordable for Tallis."),
            (
                "union",
                "Tallis made record profits on the backs of crew who can barely pay their rent. "
                "Enough is enough.",
            ),
            ("airport", "We are working with Tallis to keep passengers informed and terminals calm."),
            ("analyst", "Every strike day costs Tallis millions and sends customers to rival airlines."),
            (
                "crew",
                "Nobody wants to strike, and nobody wants to let passengers down, but we have been "
                "pushed to this.",
            ),
            ("union", "Our door is open. Tallis knows what it needs to do to settle this."),
        ),
        outlook=(
            "Passengers are advised to check the Tallis Airways website before travelling to the airport.",
            "Glenhaven Airport says other airlines are operating normally.",
            "The union says it will consult members on any new offer from Tallis.",
            "Travel agents report a rise in bookings on rival airlines flying from Glenhaven.",
        ),
    ),
    Storyline(
        slug="northgate-rovers-cup-run",
        section="sport",
        dateline="NORTHGATE",
        tags=("football", "northgate-rovers", "halden-cup"),
        extra_tags=("cup", "giant-killing", "ferris-park", "northgate"),
        start=dt.date(2026, 1, 10),
        span_days=90,
        front_loading=1.0,
        people={
            "manager": _P("Sean Mulligan", "the Northgate Rovers manager"),
            "striker": _P("Kofi Asante", "the Northgate Rovers striker"),
            "keeper": _P("Danny Whelan", "the Northgate goalkeeper"),
            "chairman": _P("Frank Ibbotson", "chairman of Northgate Rovers"),
            "fan": _P("Maureen Baxter", "who has held a season ticket at Ferris Park for 40 years"),
        },
        developments=(
            _D(
                "Northgate Rovers stun Marchbank Athletic in Halden Cup third round",
                "Northgate Rovers pulled off one of the shocks of the Halden Cup third round, beating "
                "Marchbank Athletic 2-1 with a late goal from Kofi Asante.",
                "Asante's header in the 88th minute sent the 4,000 Northgate fans in the away end into wild "
                "celebrations.",
            ),
            _D(
                "Kofi Asante: from non-league to Northgate's cup hero",
                "Eighteen months ago Kofi Asante was playing non-league football. Now his goals have "
                "carried Northgate Rovers deep into the Halden Cup.",
                "The striker spent three seasons at Brackley Vale, scoring 41 goals, before Northgate "
                "offered him a professional contract.",
            ),
            _D(
                "Northgate Rovers draw Atherley United in Halden Cup fourth round",
                "Northgate Rovers will travel to Atherley United in the fourth round of the Halden Cup, a "
                "tie that has sent Ferris Park into a frenzy.",
                "Atherley United sit two divisions above Northgate and reached the Halden Cup semi-finals "
                "last season.",
            ),
            _D(
                "Northgate Rovers knock out Atherley United on penalties",
                "Danny Whelan saved two penalties as Northgate Rovers knocked Atherley United out of the "
                "Halden Cup after a goalless draw.",
                "Whelan dived to his left to save the decisive kick from Atherley's captain, sparking a "
                "pitch invasion.",
            ),
            _D(
                "Halden Cup run brings financial lifeline to Northgate Rovers",
                "The Halden Cup run has earned Northgate Rovers more than a million pounds, transforming "
                "the finances of a club that was close to administration.",
                "The club has paid off a tax bill that threatened it with a winding-up order two years ago.",
            ),
            _D(
                "Northgate Rovers drawn at home to Ravenport City in quarter-final",
                "Northgate Rovers will host Ravenport City at Ferris Park in the quarter-finals of the "
                "Halden Cup, the biggest game in the club's history.",
                "Ravenport City are top of the second tier and have not lost away from home since October.",
            ),
            _D(
                "Sean Mulligan rejects approach from rival club",
                "Northgate Rovers manager Sean Mulligan has turned down an approach from a bigger club, "
                "saying he wants to finish the job he started at Ferris Park.",
                "Mulligan is understood to have been offered a contract worth three times his current "
                "salary.",
            ),
            _D(
                "Ferris Park sells out in 40 minutes for Northgate quarter-final",
                "Every ticket for Northgate Rovers' Halden Cup quarter-final against Ravenport City sold "
                "within 40 minutes, with queues around Ferris Park overnight.",
                "The club has installed temporary seating behind one goal to squeeze an extra 400 "
                "supporters into Ferris Park.",
            ),
            _D(
                "Northgate Rovers beat Ravenport City to reach Halden Cup semi-final",
                "Northgate Rovers are in the semi-finals of the Halden Cup for the first time after Kofi "
                "Asante's header beat Ravenport City at Ferris Park.",
                "Asante rose highest to meet a corner in the 71st minute, and Whelan made a string of late "
                "saves to protect the lead.",
            ),
            _D(
                "Danny Whelan injury blow for Northgate before semi-final",
                "Northgate Rovers goalkeeper Danny Whelan will miss the Halden Cup semi-final with a broken "
                "finger, a big blow to the fourth-tier club.",
                "Whelan broke his finger in training and will be replaced by 19-year-old Rory Pound, who "
                "has never started a senior game.",
            ),
            _D(
                "Northgate Rovers' Halden Cup dream ends in semi-final defeat",
                "Northgate Rovers' remarkable Halden Cup run is over after a 3-1 semi-final defeat, though "
                "thousands of travelling fans cheered the team off the pitch.",
                "Northgate led through an early Kofi Asante goal before their opponents scored three times "
                "after the break.",
            ),
            _D(
                "Analysis: what the Halden Cup run means for Northgate Rovers",
                "The Halden Cup run has given Northgate Rovers money, belief and a bigger fan base. The "
                "test now is whether the club can turn that into promotion.",
                "The club sits seventh in the league, four points outside the play-off places with eleven "
                "games left.",
            ),
        ),
        facts=(
            "Northgate Rovers play in the fourth tier and had never before gone beyond the fourth round of "
            "the Halden Cup.",
            "Ferris Park holds 7,800 spectators.",
            "Kofi Asante joined Northgate Rovers on a free transfer from non-league Brackley Vale last "
            "summer.",
            "Sean Mulligan took over as Northgate manager 18 months ago with the club bottom of the table.",
            "The Halden Cup run has earned Northgate an estimated £1.1m in prize money and television fees.",
            "Northgate Rovers were founded in 1889 by workers at the Northgate railway yards.",
            "Danny Whelan has kept clean sheets in three of Northgate's Halden Cup ties.",
            "The club's last major honour was a regional league title in 1956.",
            "Kofi Asante has scored six goals in the Halden Cup this season.",
        ),
        quotes=(
            (
                "manager",
                "Nobody gave us a chance, but this group of players never stops running. The "
                "supporters deserve every minute of this.",
            ),
            (
                "striker",
                "A year and a half ago I was working in a warehouse. Scoring at Ferris Park in the "
                "Halden Cup is a dream.",
            ),
            ("keeper", "I just trusted my instincts. The lads in front of me made it easy."),
            ("chairman", "The cup money means we can fix the Ferris Park roof and pay every bill on time."),
            ("fan", "I have seen some grim seasons at Ferris Park. This cup run makes up for all of them."),
            ("manager", "We will enjoy tonight, then it is back to the league on Saturday."),
        ),
        outlook=(
            "Northgate Rovers return to league action at Ferris Park on Saturday.",
            "The club says it will reinvest the Halden Cup money in its youth academy.",
            "Extra trains have been laid on for Northgate supporters travelling to the next tie.",
            "Supporters are planning a civic reception for the team in Northgate town centre.",
        ),
    ),
    Storyline(
        slug="tour-of-the-serran-hills",
        section="sport",
        dateline="SERRAN",
        tags=("cycling", "tour-of-the-serran-hills", "serran-hills"),
        extra_tags=("stage-race", "velocita-nord", "cobalt-racing", "doping"),
        start=dt.date(2026, 3, 16),
        span_days=34,
        front_loading=1.3,
        people={
            "brandt": _P("Mateo Brandt", "the Velocita Nord team leader"),
            "oster": _P("Yannick Oster", "the Cobalt Racing rider"),
            "director": _P("Elise Marchand", "director of the Tour of the Serran Hills"),
            "manager": _P("Ruud Vermaelen", "the Velocita Nord team manager"),
            "integrity": _P("Tomas Greer", "head of the Cycling Integrity Unit"),
        },
        developments=(
            _D(
                "Mateo Brandt starts as favourite for Tour of the Serran Hills",
                "Mateo Brandt of Velocita Nord starts the Tour of the Serran Hills as the favourite after "
                "finishing second in the stage race last year.",
                "Brandt won two mountain stages in last year's race but lost the overall lead in the final "
                "time trial.",
            ),
            _D(
                "Yannick Oster wins Serran Hills opening time trial",
                "Yannick Oster of Cobalt Racing won the opening time trial of the Tour of the Serran Hills "
                "by eleven seconds to take the first amber jersey.",
                "Oster covered the 14-kilometre course along the Serran riverside in just over 16 minutes.",
            ),
            _D(
                "Crashes mar sprint stage at Tour of the Serran Hills",
                "A series of crashes in the final kilometres of stage three of the Tour of the Serran Hills "
                "forced four riders to abandon the race.",
                "The worst crash came two kilometres from the finish when a rider touched wheels on a bend, "
                "bringing down more than 20 others.",
            ),
            _D(
                "Brandt takes amber jersey on Serran Pass summit finish",
                "Mateo Brandt attacked on the final climb to the Serran Pass to win the queen stage and "
                "take the leader's amber jersey from Yannick Oster.",
                "Brandt crossed the line 38 seconds ahead of his nearest rival, with Oster losing more than "
                "a minute.",
            ),
            _D(
                "Gravel stage shakes up Tour of the Serran Hills standings",
                "The gravel roads through the Serran vineyards reshaped the overall standings, with several "
                "contenders losing minutes to punctures and falls.",
                "Dust from the gravel tracks hung over the vineyards as team cars struggled to reach riders "
                "who had punctured.",
            ),
            _D(
                "Oster loses time after puncture on Serran gravel roads",
                "Yannick Oster's hopes of winning the Tour of the Serran Hills faded after a puncture on "
                "the gravel sector left him two minutes behind Mateo Brandt.",
                "Oster waited more than a minute for a spare wheel because his team car was stuck behind "
                "the race convoy.",
            ),
            _D(
                "Mateo Brandt wins Tour of the Serran Hills",
                "Mateo Brandt has won the Tour of the Serran Hills, finishing safely in the bunch on the "
                "final stage to seal overall victory for Velocita Nord.",
                "Brandt finished 1 minute 52 seconds ahead of Oster, with a Velocita Nord team-mate third "
                "overall.",
            ),
            _D(
                "Cycling Integrity Unit confirms adverse test at Serran Hills race",
                "The Cycling Integrity Unit has confirmed that a rider returned an adverse doping test "
                "during the Tour of the Serran Hills.",
                "The sample was taken after stage five, and the rider has the right to ask for a second "
                "sample to be tested.",
            ),
            _D(
                "Cobalt Racing suspends rider after Serran Hills doping case",
                "Cobalt Racing has suspended its rider Luca Ferrante after he was named in the Tour of the "
                "Serran Hills doping case, pending a hearing.",
                "Ferrante, 27, finished 31st overall and has denied taking any banned substance.",
            ),
            _D(
                "Tour of the Serran Hills unveils route changes for next year",
                "Organisers of the Tour of the Serran Hills have announced a longer gravel sector and a "
                "second summit finish for next year's race.",
                "The new route adds a second gravel sector and a summit finish at the ski station above "
                "Serran.",
            ),
        ),
        facts=(
            "The Tour of the Serran Hills covers 1,140 kilometres over eight stages.",
            "The queen stage finishes at the summit of the Serran Pass, 2,210 metres above sea level.",
            "Mateo Brandt, 24, finished second in the Tour of the Serran Hills last year.",
            "Velocita Nord has won the Tour of the Serran Hills three times in the past five years.",
            "The leader of the overall standings wears the amber jersey.",
            "Stage six includes 30 kilometres of gravel roads through the Serran vineyards.",
            "More than 140 riders from 20 teams started the Tour of the Serran Hills.",
            "The Cycling Integrity Unit tests riders at random throughout the race.",
            "Cobalt Racing is racing in the Tour of the Serran Hills for the first time.",
        ),
        quotes=(
            (
                "brandt",
                "The Serran Pass suits me. I knew if I could drop the others on the last climb the "
                "jersey was possible.",
            ),
            ("oster", "The gravel is a lottery. One puncture and your race is gone."),
            (
                "director",
                "The Tour of the Serran Hills should reward riders who can climb, sprint and "
                "handle the gravel.",
            ),
            ("manager", "Velocita Nord came here to win, and Mateo rode like a real leader."),
            (
                "integrity",
                "Testing is there to protect clean riders. The case will follow the usual process.",
            ),
            ("brandt", "My team-mates rode themselves into the ground for me today."),
        ),
        outlook=(
            "The riders now head to the spring classics in the north.",
            "The Serran Pass will feature twice in next year's race.",
            "Cobalt Racing has said it will cooperate fully with the Cycling Integrity Unit.",
            "Organisers say roadside crowds were the largest in the race's history.",
        ),
    ),
    Storyline(
        slug="lake-mirren-algae-bloom",
        section="science",
        dateline="LAKE MIRREN",
        tags=("environment", "lake-mirren", "water-quality"),
        extra_tags=("algae", "farming", "pollution", "wildlife", "mirren-freshwater-institute"),
        start=dt.date(2026, 2, 9),
        span_days=70,
        front_loading=1.2,
        people={
            "scientist": _P("Priya Nandakumar", "a freshwater ecologist at the Mirren Freshwater Institute"),
            "agency": _P("Colin Harte", "an officer at the Waterways Agency"),
            "farmers": _P("Ewan Gillespie", "chairman of the Mirren Valley Farmers' Union"),
            "swimmers": _P("Kate Olsen", "founder of the Mirren Wild Swimmers club"),
            "water": _P("Jonas Feld", "a spokesman for Mirren Valley Water"),
        },
        developments=(
            _D(
                "Unusual winter algae bloom spotted on Lake Mirren",
                "Scientists at the Mirren Freshwater Institute have reported a bloom of blue-green algae on "
                "Lake Mirren, months earlier in the year than usual.",
                "Institute staff noticed a green scum near the sailing club in the third week of February.",
            ),
            _D(
                "Swimming and dog walking banned at Lake Mirren as toxins found",
                "The Waterways Agency has banned swimming and told dog owners to keep pets away from Lake "
                "Mirren after toxins from the algae bloom were detected.",
                "Warning signs have gone up at the twelve main access points around the lake, and the "
                "sailing club has suspended races.",
            ),
            _D(
                "Dead fish wash up on Lake Mirren shore",
                "Hundreds of dead perch and roach have washed up on the eastern shore of Lake Mirren as the "
                "algae bloom starves the water of oxygen.",
                "Volunteers from the angling club have been collecting the fish, which are being tested to "
                "confirm the cause of death.",
            ),
            _D(
                "Scientists link Lake Mirren bloom to farm run-off",
                "Researchers at the Mirren Freshwater Institute say phosphate from fertiliser washed off "
                "farmland is the main cause of the Lake Mirren algae bloom.",
                "The researchers compared phosphate readings in the lake's four main feeder streams after "
                "heavy rain.",
            ),
            _D(
                "Farmers reject blame for Lake Mirren algae",
                "Farmers around Lake Mirren have rejected claims that fertiliser run-off caused the algae "
                "bloom, pointing instead to leaking septic tanks and sewage overflows.",
                "The farmers' union says its members have cut fertiliser use by a fifth in the past ten "
                "years.",
            ),
            _D(
                "Satellite images show scale of Lake Mirren algae bloom",
                "Satellite images show the blue-green algae bloom has spread across roughly two-thirds of "
                "the surface of Lake Mirren.",
                "The images, taken by an Earth observation satellite, show bright green swirls reaching "
                "into the sheltered northern bays.",
            ),
            _D(
                "Lake Mirren drinking water safe, water company says",
                "Mirren Valley Water says tap water drawn from Lake Mirren remains safe to drink because "
                "its treatment works removes algal toxins.",
                "The water company says it has increased testing at its Mirren intake to twice a day.",
            ),
            _D(
                "Study finds phosphate in Lake Mirren has doubled",
                "A study by the Mirren Freshwater Institute has found that phosphate levels in Lake Mirren "
                "have doubled since 2010, feeding ever larger algae blooms.",
                "The study draws on more than 2,000 water samples collected from the lake since 2010.",
            ),
            _D(
                "Reed-bed buffer zones planned around Lake Mirren",
                "The Waterways Agency plans to plant reed beds along streams feeding Lake Mirren to trap "
                "phosphate before it reaches the water.",
                "The reed beds would be planted in strips along the main feeder streams, with farmers paid "
                "to give up land for them.",
            ),
            _D(
                "Wild swimmers protest over Lake Mirren pollution",
                "Members of the Mirren Wild Swimmers club gathered on the shore of Lake Mirren to demand "
                "faster action on the pollution behind the algae bloom.",
                "The protesters, some in wetsuits, carried placards calling for an end to sewage overflows "
                "into the lake.",
                section="local",
            ),
            _D(
                "Lake Mirren bloom fades but scientists warn it will return",
                "The algae bloom on Lake Mirren has begun to fade, but researchers warn it will return "
                "every year unless phosphate pollution is cut.",
                "Cooler weather and strong winds have broken up the surface scum, but toxins remain in "
                "parts of the lake.",
            ),
            _D(
                "Explainer: why toxic algae blooms like Lake Mirren's are spreading",
                "Toxic blooms of blue-green algae, like the one on Lake Mirren, are becoming more common as "
                "nutrient pollution and warmer winters combine.",
                "Scientists say cutting nutrient pollution is the only lasting fix, because warmer weather "
                "is already locked in.",
            ),
        ),
        facts=(
            "Lake Mirren covers 14 square kilometres and supplies drinking water to about 90,000 people.",
            "Cyanobacteria, often called blue-green algae, can produce toxins harmful to people, dogs and "
            "livestock.",
            "Phosphate levels in Lake Mirren have doubled since 2010, according to institute measurements.",
            "Most of the phosphate is thought to come from fertiliser run-off and leaking septic tanks.",
            "The Mirren Freshwater Institute has sampled Lake Mirren every week since 1978.",
            "Warmer winters allow the algae in Lake Mirren to start growing earlier in the year.",
            "Dogs are especially at risk because they drink lake water and lick their fur after swimming.",
            "When the algae die and decay, they strip oxygen from the water, suffocating fish.",
            "Around 40 farms drain into the streams that feed Lake Mirren.",
        ),
        quotes=(
            (
                "scientist",
                "We have never seen cyanobacteria in Lake Mirren at this density so early in the "
                "year. The phosphate has to come down.",
            ),
            (
                "agency",
                "Until tests show the toxin levels have fallen, people and pets should stay out of "
                "the water.",
            ),
            (
                "farmers",
                "Farmers have cut fertiliser use a great deal. It is unfair to blame us for every "
                "problem in Lake Mirren.",
            ),
            ("swimmers", "We swim in Lake Mirren all year round. Now we are told it could make us ill."),
            (
                "water",
                "Our treatment works is designed to remove algal toxins, and we are testing every day.",
            ),
            ("scientist", "Reed beds help, but only if the run-off from the catchment is cut as well."),
        ),
        outlook=(
            "The Mirren Freshwater Institute will continue weekly sampling across the lake.",
            "Warning signs will stay up around Lake Mirren until toxin levels fall.",
            "The Waterways Agency will publish a plan to cut phosphate in the lake's catchment.",
            "Researchers will compare this year's bloom with records going back to the 1970s.",
        ),
    ),
    Storyline(
        slug="tern-probe-asteroid-velka",
        section="science",
        dateline="ASTERION CONTROL",
        tags=("space", "tern-probe", "asteroid-velka"),
        extra_tags=("astronomy", "spacecraft", "planetary-science", "aurelian-space-agency"),
        start=dt.date(2026, 1, 15),
        span_days=95,
        front_loading=1.0,
        people={
            "lead": _P("Jonah Whitcombe", "the Tern mission manager at the Aurelian Space Agency"),
            "engineer": _P("Mei Tanaka", "the Tern probe's lead flight engineer"),
            "scientist": _P("Ruth Abernethy", "a planetary scientist at Calder University"),
            "director": _P("Henrik Solberg", "director general of the Aurelian Space Agency"),
        },
        developments=(
            _D(
                "Tern probe arrives at asteroid Velka after four-year journey",
                "The Aurelian Space Agency's Tern probe has arrived at the asteroid Velka after a four-year "
                "journey, firing its thrusters to match the asteroid's orbit.",
                "Mission controllers at the agency's Asterion control centre cheered as the first signals "
                "confirmed the probe was in position.",
            ),
            _D(
                "First close-up images of asteroid Velka show boulder-strewn surface",
                "The first close-up images sent back by the Tern probe show that asteroid Velka is covered "
                "in boulders, some as large as a house.",
                "The black-and-white images were taken from a distance of 20 kilometres and show features "
                "as small as a car.",
            ),
            _D(
                "Tern probe enters safe mode after thruster anomaly",
                "The Tern probe has put itself into safe mode after one of its thrusters fired for longer "
                "than commanded, mission controllers say.",
                "Engineers say the probe is stable and in contact with Earth, but all science observations "
                "have been suspended.",
            ),
            _D(
                "Engineers restore Tern probe after thruster fault",
                "Engineers at the Aurelian Space Agency have brought the Tern probe out of safe mode and "
                "switched to a backup thruster, putting the Velka mission back on track.",
                "The backup thruster was tested in a series of short burns before the probe resumed its "
                "survey of the asteroid.",
            ),
            _D(
                "Asteroid Velka spins faster than expected, Tern data shows",
                "Measurements from the Tern probe show that asteroid Velka rotates once every 3.9 hours, "
                "faster than astronomers had predicted from telescope observations.",
                "The rapid spin is flinging loose material towards the asteroid's equator, where it has "
                "built up a ridge of rubble.",
            ),
            _D(
                "Tern mission team picks landing site on asteroid Velka",
                "Scientists on the Tern mission have chosen a smooth patch near asteroid Velka's equator as "
                "the site where the probe will touch down to collect a sample.",
                "The chosen site, about 20 metres across, is one of the few areas on Velka without large "
                "boulders.",
            ),
            _D(
                "Tern probe touches down on Velka and collects sample",
                "The Tern probe has briefly touched the surface of asteroid Velka, firing a small "
                "projectile and collecting the dust and pebbles it threw up.",
                "The touchdown lasted less than six seconds, and engineers confirmed that the sampling arm "
                "had retracted safely.",
            ),
            _D(
                "Velka sample larger than expected, Tern mission team says",
                "The Tern probe appears to have collected more material from asteroid Velka than planned, "
                "with images showing its sample container almost full.",
                "Engineers estimate the container holds about 150 grams, half as much again as the "
                "mission's target.",
            ),
            _D(
                "Tern instruments detect water-bearing minerals on Velka",
                "Spectrometers on the Tern probe have detected clay minerals on asteroid Velka that contain "
                "water locked inside their crystals.",
                "The minerals appear to have formed when liquid water flowed through the asteroid's parent "
                "body billions of years ago.",
            ),
            _D(
                "Tern probe leaves asteroid Velka for journey home",
                "The Tern probe has fired its engines to leave asteroid Velka and begin its return journey "
                "to Earth with the sample capsule.",
                "The journey home will take about three years, and the probe will release its capsule "
                "shortly before reaching Earth.",
            ),
            _D(
                "What the Velka samples could tell us about the early solar system",
                "Material from asteroid Velka, due back on Earth in three years, could reveal how water and "
                "carbon were delivered to the young planets.",
                "Laboratories in several countries will share the material, while some will be kept sealed "
                "for future generations.",
            ),
        ),
        facts=(
            "The Tern probe was launched four years ago and has travelled more than 900 million kilometres.",
            "Asteroid Velka is about 1.3 kilometres across and orbits the Sun every 2.7 years.",
            "Tern carries a sampling arm designed to collect up to 100 grams of surface material.",
            "Scientists think asteroid Velka is rich in carbon and may contain water locked in clay "
            "minerals.",
            "Radio signals from the Tern probe take about 14 minutes to reach Earth.",
            "The Tern mission has cost the Aurelian Space Agency around £620m.",
            "The Tern sample capsule is due to land in a desert test range in three years' time.",
            "Tern's main camera can pick out rocks as small as ten centimetres from orbit.",
            "Asteroid Velka was discovered in 1998 by a survey telescope.",
        ),
        quotes=(
            (
                "lead",
                "Every manoeuvre at Velka is a first for us. The asteroid's gravity is so weak that "
                "Tern has to fly rather than orbit.",
            ),
            (
                "engineer",
                "The fault was worrying, but Tern did exactly what we designed it to do and kept "
                "itself safe.",
            ),
            (
                "scientist",
                "Velka is a time capsule from the birth of the solar system. Its clays could tell "
                "us where Earth's water came from.",
            ),
            (
                "director",
                "Tern shows what a small agency can achieve with a clever spacecraft and a brilliant team.",
            ),
            ("lead", "The surface is much rougher than we hoped, so choosing where to land took weeks."),
            ("scientist", "A few grams of asteroid material will keep laboratories busy for decades."),
        ),
        outlook=(
            "The Tern team will publish the first scientific results from Velka later this year.",
            "Mission controllers will monitor the probe's health closely over the coming weeks.",
            "Laboratories are already preparing clean rooms to receive the Velka samples.",
            "The agency will stream the next major manoeuvre live online.",
        ),
    ),
    Storyline(
        slug="ravensgate-film-festival",
        section="culture",
        dateline="RAVENSGATE",
        tags=("film", "ravensgate-film-festival", "ravensgate"),
        extra_tags=("cinema", "awards", "festivals", "silver-raven"),
        start=dt.date(2026, 2, 27),
        span_days=44,
        front_loading=1.0,
        people={
            "director": _P("Lucía Ferrand", "director of the Ravensgate Film Festival"),
            "jury": _P("Malcolm Teague", "the actor and president of the Ravensgate jury"),
            "arkwright": _P("Sofia Arkwright", "director of The Salt Orchard"),
            "ashdown": _P("Kenji Ashdown", "director of Glass Harbour"),
            "critic": _P("Annabel Frost", "film critic"),
        },
        developments=(
            _D(
                "Ravensgate Film Festival announces competition line-up",
                "The Ravensgate Film Festival has announced the twelve films that will compete for its top "
                "prize, the Silver Raven, including four debut features.",
                "Four of the twelve competing films are by first-time directors, and half are directed by "
                "women.",
            ),
            _D(
                "Malcolm Teague named jury president at Ravensgate",
                "The actor Malcolm Teague will lead the jury that awards the Silver Raven at this year's "
                "Ravensgate Film Festival.",
                "Teague will be joined on the jury by a cinematographer, a novelist and two previous Silver "
                "Raven winners.",
            ),
            _D(
                "Sponsor pulls out of Ravensgate Film Festival",
                "One of the Ravensgate Film Festival's main sponsors has withdrawn weeks before the event, "
                "leaving a hole in the festival's budget.",
                "The sponsor, a regional energy company, gave about £400,000 a year to the festival.",
            ),
            _D(
                "Ravensgate Film Festival opens with The Salt Orchard",
                "The Ravensgate Film Festival opened with the premiere of Sofia Arkwright's The Salt "
                "Orchard, a drama about a family of fruit growers on a flooded coast.",
                "The opening night drew a crowd of 900 to the Palladium, with hundreds more watching on a "
                "screen outside.",
            ),
            _D(
                "Review: Glass Harbour is the discovery of Ravensgate",
                "Kenji Ashdown's Glass Harbour, shot in eighteen days with non-professional actors, is the "
                "most striking film in competition at Ravensgate this year.",
                "The film follows three generations of a family who run a glass-blowing workshop beside a "
                "fading harbour.",
            ),
            _D(
                "Ravensgate festival booking website crashes under ticket demand",
                "The Ravensgate Film Festival's booking website crashed for several hours as film fans "
                "rushed to buy tickets for extra screenings.",
                "Festival staff added extra screenings of the most popular films in the seafront tent to "
                "meet demand.",
            ),
            _D(
                "Audience walkouts at Ravensgate documentary screening",
                "Dozens of people walked out of a documentary about factory farming at the Ravensgate Film "
                "Festival, while others gave it a standing ovation.",
                "The documentary's director defended the film's graphic scenes at a packed "
                "question-and-answer session.",
            ),
            _D(
                "Sofia Arkwright wins Silver Raven at Ravensgate",
                "Sofia Arkwright's The Salt Orchard has won the Silver Raven at the Ravensgate Film "
                "Festival, with Glass Harbour taking the jury prize.",
                "Accepting the prize, Arkwright dedicated the award to the fruit growers who appear in the "
                "film.",
            ),
            _D(
                "Ravensgate festival director Lucía Ferrand to step down",
                "Lucía Ferrand will step down as director of the Ravensgate Film Festival after nine years, "
                "saying the festival needs fresh ideas.",
                "Ferrand joined the festival as a programmer twenty years ago and has led it for nine "
                "editions.",
            ),
            _D(
                "Ravensgate Film Festival reports record attendance",
                "The Ravensgate Film Festival sold more tickets than ever this year, with screenings in the "
                "seafront tent selling out every night.",
                "More than 100,000 tickets were sold, beating last year's record by about 4,000.",
            ),
            _D(
                "Glass Harbour secures distribution deal after Ravensgate success",
                "Kenji Ashdown's Glass Harbour will be released in cinemas this autumn after a distributor "
                "bought the rights following its success at Ravensgate.",
                "The deal was signed on the last night of the festival after a bidding contest between "
                "three companies.",
            ),
        ),
        facts=(
            "The Ravensgate Film Festival is in its 41st year and screens around 180 films over ten days.",
            "The festival's top prize is the Silver Raven.",
            "Ravensgate screenings take place at the restored Palladium cinema and in a tent on the "
            "seafront.",
            "Last year the Ravensgate Film Festival sold a record 96,000 tickets.",
            "Twelve films are competing for the Silver Raven this year.",
            "The festival's budget is about £4.5m, a third of which comes from sponsors.",
            "The Salt Orchard is Sofia Arkwright's second feature film.",
            "Glass Harbour was shot over eighteen days with a cast of non-professional actors.",
            "Past Silver Raven winners have gone on to win major international awards.",
        ),
        quotes=(
            (
                "director",
                "Ravensgate has always championed brave, independent cinema, and this year's "
                "line-up is the boldest yet.",
            ),
            (
                "jury",
                "We are looking for films that surprise us and stay with us long after the lights come up.",
            ),
            (
                "arkwright",
                "The Salt Orchard is about holding on to a place you love while the sea takes it away.",
            ),
            (
                "ashdown",
                "We had no money and no stars, just a harbour, a camera and people with stories to tell.",
            ),
            ("critic", "Ravensgate rarely has a weak year, but this competition is unusually strong."),
            ("director", "The Palladium was full every night. Audiences clearly want to see films together."),
        ),
        outlook=(
            "Tickets for the remaining Ravensgate screenings go on sale on the festival website.",
            "Several of the films in competition are expected to reach cinemas later this year.",
            "The festival will announce next year's dates in the summer.",
            "A touring programme of Ravensgate films will visit regional cinemas in the autumn.",
        ),
    ),
    Storyline(
        slug="brandauer-ferrywoman-painting",
        section="culture",
        dateline="EASTCLIFF",
        tags=("art", "ottilie-brandauer", "the-ferrywoman"),
        extra_tags=("auctions", "museums", "painting", "eastcliff", "heritage"),
        start=dt.date(2026, 1, 26),
        span_days=85,
        front_loading=1.0,
        people={
            "owner": _P("Arthur Penrose", "a retired postman from Eastcliff"),
            "auction": _P("Imogen Vale", "head of paintings at Harcourt & Lyle"),
            "museum": _P("Samuel Okoro", "director of the Eastcliff Museum"),
            "historian": _P("Helga Lindgren", "an art historian and expert on Ottilie Brandauer"),
        },
        developments=(
            _D(
                "Lost Ottilie Brandauer painting found in Eastcliff attic",
                "A painting by Ottilie Brandauer that had been missing for more than a century has been "
                "found in the attic of a house in Eastcliff.",
                "Arthur Penrose found the canvas wrapped in a blanket while clearing his late mother's "
                "house on Cliff Terrace.",
            ),
            _D(
                "Experts begin authenticating Brandauer's The Ferrywoman",
                "Specialists have begun tests to establish whether the canvas found in an Eastcliff attic "
                "is Ottilie Brandauer's lost painting The Ferrywoman.",
                "The painting has been taken to a conservation studio, where experts will study the canvas, "
                "the paint and the frame.",
            ),
            _D(
                "Infrared scans reveal hidden sketch beneath Brandauer canvas",
                "Infrared scans of The Ferrywoman have revealed Ottilie Brandauer's underdrawing, including "
                "a second figure she later painted out.",
                "The second figure, a child holding a lantern, appears in early sketches for the painting "
                "but not in the finished work.",
            ),
            _D(
                "The Ferrywoman confirmed as genuine Ottilie Brandauer",
                "Experts have confirmed that the painting found in an Eastcliff attic is Ottilie "
                "Brandauer's The Ferrywoman, last seen in public in 1889.",
                "Experts matched the canvas with an 1889 exhibition catalogue and with letters in which the "
                "artist described it.",
            ),
            _D(
                "Brandauer's The Ferrywoman to be sold at Harcourt & Lyle",
                "The Ferrywoman, Ottilie Brandauer's rediscovered painting, will be sold at auction by "
                "Harcourt & Lyle next month.",
                "Harcourt & Lyle will show the painting in its galleries for a week before the sale.",
            ),
            _D(
                "Eastcliff Museum launches appeal to buy The Ferrywoman",
                "The Eastcliff Museum has launched a public appeal to raise money to buy The Ferrywoman so "
                "that the Brandauer painting can stay in the town where it was found.",
                "The museum needs to raise at least £1m and has applied for grants from two heritage funds.",
            ),
            _D(
                "Crowds queue to see The Ferrywoman before auction",
                "Hundreds of people queued outside Harcourt & Lyle to see Ottilie Brandauer's The "
                "Ferrywoman during its only public viewing before the sale.",
                "Visitors waited up to two hours in the rain, and the auction house extended its opening "
                "hours to cope.",
            ),
            _D(
                "Brandauer's The Ferrywoman sells for record £2.1m",
                "Ottilie Brandauer's The Ferrywoman has sold at Harcourt & Lyle for £2.1m, a record for the "
                "artist and far above its estimate.",
                "Bidding started at £600,000 and lasted eleven minutes, with three bidders on the telephone.",
            ),
            _D(
                "Export bar placed on Brandauer painting The Ferrywoman",
                "The culture minister has placed a temporary export bar on The Ferrywoman after the "
                "Brandauer painting was bought by an overseas collector.",
                "The bar gives British institutions four months to match the price paid by the overseas "
                "buyer.",
            ),
            _D(
                "Eastcliff Museum raises funds to keep The Ferrywoman",
                "The Eastcliff Museum has raised enough money to match the auction price of The Ferrywoman, "
                "meaning Ottilie Brandauer's painting will stay in the country.",
                "A heritage fund contributed £1.2m, and more than 8,000 members of the public gave smaller "
                "sums.",
            ),
            _D(
                "The Ferrywoman goes on display in Eastcliff Museum",
                "Ottilie Brandauer's The Ferrywoman has gone on display at the Eastcliff Museum, a short "
                "walk from the attic where it lay hidden for decades.",
                "The painting hangs in a room of its own alongside letters and sketches telling the story "
                "of its rediscovery.",
            ),
        ),
        facts=(
            "Ottilie Brandauer painted coastal scenes in the 1870s and 1880s and died in 1891, aged 43.",
            "The Ferrywoman was last recorded at an exhibition in 1889 and had been presumed lost.",
            "The Ferrywoman canvas measures about 90 by 120 centimetres.",
            "Only 31 paintings by Ottilie Brandauer are known to survive.",
            "The painting hung in a spare bedroom before being moved to the attic in the 1970s.",
            "Harcourt & Lyle estimated that The Ferrywoman would sell for between £800,000 and £1.2m.",
            "The Eastcliff Museum holds the largest public collection of Brandauer's work, with nine "
            "paintings.",
            "The Ferrywoman shows a woman rowing passengers across the Eastcliff estuary at dusk.",
            "Brandauer was largely forgotten for decades before a retrospective revived interest in her "
            "work.",
        ),
        quotes=(
            (
                "owner",
                "It hung over my grandmother's bed and we just called it the boat picture. I never "
                "dreamed it was worth anything.",
            ),
            (
                "auction",
                "It is rare for a painting of this importance to appear out of nowhere. The "
                "Ferrywoman is in remarkable condition.",
            ),
            (
                "museum",
                "The Ferrywoman belongs in Eastcliff, where Brandauer painted it and where people "
                "can see it for free.",
            ),
            (
                "historian",
                "This is one of Brandauer's most ambitious works. The light on the water is "
                "unmistakably hers.",
            ),
            (
                "historian",
                "The underdrawing shows her changing her mind as she worked, which is exactly what "
                "we would expect.",
            ),
            (
                "museum",
                "Hundreds of small donations have come in from people who have never given to a "
                "museum before.",
            ),
        ),
        outlook=(
            "The painting will be cleaned by conservators before any public display.",
            "A new catalogue of Brandauer's surviving works is due to be published next year.",
            "The Eastcliff Museum plans an exhibition of Brandauer's coastal paintings.",
            "Experts hope the find will prompt more lost Brandauer works to surface.",
        ),
    ),
    Storyline(
        slug="eastbrook-river-tarne-floods",
        section="local",
        dateline="EASTBROOK",
        tags=("flooding", "eastbrook", "river-tarne"),
        extra_tags=("weather", "insurance", "flood-defences", "emergency"),
        start=dt.date(2026, 1, 6),
        span_days=105,
        front_loading=1.8,
        people={
            "council": _P("Janet Morrow", "leader of Eastbrook Town Council"),
            "agency": _P("Nadia Qureshi", "area flood manager at the Waterways Agency"),
            "resident": _P("Bill Stannard", "who has lived on Mill Lane for 30 years"),
            "trader": _P("Sunita Desai", "who runs a bakery on Eastbrook's Bridge Street"),
            "fire": _P("Alan Keane", "group manager at the county fire and rescue service"),
        },
        developments=(
            _D(
                "River Tarne bursts its banks in Eastbrook after heavy rain",
                "The River Tarne has burst its banks in Eastbrook after days of heavy rain, flooding "
                "streets in the lower part of the town.",
                "The river rose sharply overnight after a month's rain fell in two days across the Tarne "
                "valley.",
            ),
            _D(
                "Hundreds evacuated as Eastbrook flooding worsens",
                "Hundreds of people have been evacuated from their homes in Eastbrook as the River Tarne "
                "continued to rise overnight.",
                "Firefighters and volunteers went from door to door on Mill Lane and Tanners Row, helping "
                "elderly residents to safety.",
            ),
            _D(
                "Eastbrook flood barriers overwhelmed, officials admit",
                "The temporary flood barriers protecting Eastbrook were overwhelmed when the River Tarne "
                "rose higher than they were designed to cope with, officials have admitted.",
                "Water poured over the barriers near the old mill bridge shortly after midnight, flooding "
                "the streets behind them.",
            ),
            _D(
                "Volunteers help Eastbrook clean up after River Tarne floods",
                "Hundreds of volunteers have joined the clean-up in Eastbrook, clearing mud and ruined "
                "furniture from homes flooded by the River Tarne.",
                "Skips have been placed on every flooded street, and the council has extended rubbish "
                "collections.",
            ),
            _D(
                "Eastbrook traders count cost of flood damage",
                "Shops and cafes on Eastbrook's Bridge Street face weeks of closure after the River Tarne "
                "flood left them with damaged stock and soaked walls.",
                "The Bridge Street traders' group estimates the damage to its members' businesses at more "
                "than £3m.",
            ),
            _D(
                "Eastbrook residents demand answers over delayed flood defences",
                "Angry residents packed a public meeting in Eastbrook to ask why a permanent flood defence "
                "scheme for the town has been delayed twice.",
                "The meeting heard that the permanent scheme was first approved seven years ago but stalled "
                "over costs.",
            ),
            _D(
                "Flooded Eastbrook homeowners struggle to get insurance",
                "Families whose homes were flooded in Eastbrook say they cannot find affordable insurance, "
                "and some fear they will never be able to sell.",
                "One couple on Tanners Row say their annual premium has been quoted at more than £6,000.",
            ),
            _D(
                "Government pledges funding for Eastbrook flood scheme",
                "The government has promised to fund the permanent flood defences for Eastbrook after the "
                "River Tarne flood damaged hundreds of homes.",
                "The money will cover the full £27m cost of the scheme, with work due to start within three "
                "months.",
            ),
            _D(
                "Eastbrook flood review blames barrier design",
                "An independent review of the Eastbrook flood has found that the temporary barriers along "
                "the River Tarne were too low and badly placed.",
                "The review says the barriers were placed too close to the river and should have been at "
                "least half a metre higher.",
            ),
            _D(
                "Work begins on permanent Eastbrook flood defences",
                "Construction has started on permanent flood walls and embankments along the River Tarne in "
                "Eastbrook, three months after the town was flooded.",
                "The scheme includes a flood wall along Bridge Street and an earth embankment protecting "
                "Mill Lane.",
            ),
            _D(
                "Eastbrook families return home months after floods",
                "The last families forced out of their homes by the River Tarne flood are moving back in, "
                "after months of drying out and repairs.",
                "Many families spent weeks in rented flats and hotels while builders stripped and dried "
                "their homes.",
            ),
        ),
        facts=(
            "The River Tarne rose 3.4 metres above its normal level at the Eastbrook gauge.",
            "About 260 homes and 40 businesses in Eastbrook were flooded.",
            "The town's temporary flood barriers were designed for a rise of up to 2.8 metres.",
            "Eastbrook last flooded in 2007, when water reached the market cross.",
            "A permanent flood defence scheme for Eastbrook, costing £27m, has been delayed twice.",
            "Rainfall in the Tarne valley in January was more than twice the monthly average.",
            "The Eastbrook leisure centre became a rest centre for evacuated residents.",
            "Many residents on Mill Lane and Tanners Row have been unable to get flood insurance.",
            "Firefighters used boats to rescue people from upstairs windows on Mill Lane.",
        ),
        quotes=(
            (
                "council",
                "Eastbrook has been let down. We were promised permanent defences years ago and we "
                "are still waiting.",
            ),
            (
                "agency",
                "The River Tarne rose faster and higher than any forecast suggested. The barriers "
                "were simply overtopped.",
            ),
            (
                "resident",
                "The water came up through the floorboards in minutes. We lost everything on the "
                "ground floor.",
            ),
            ("trader", "I have thrown away a month of stock and I do not know when I can reopen the bakery."),
            ("fire", "Crews worked through the night to get people out of flooded homes safely."),
            ("council", "The community spirit in Eastbrook has been extraordinary."),
        ),
        outlook=(
            "The Waterways Agency has warned that more rain is forecast for the Tarne valley.",
            "A hardship fund for flooded households is open for applications at the town hall.",
            "Eastbrook Town Council will hold further public meetings on the flood scheme.",
            "Residents are advised to register for flood warnings from the Waterways Agency.",
        ),
    ),
    Storyline(
        slug="sedgecombe-market-hall-fire",
        section="local",
        dateline="SEDGECOMBE",
        tags=("fire", "sedgecombe", "market-hall"),
        extra_tags=("heritage", "traders", "investigation", "rebuild"),
        start=dt.date(2026, 1, 14),
        span_days=92,
        front_loading=1.6,
        people={
            "fire": _P("Graham Holt", "chief fire officer for the county"),
            "traders": _P("Rosa Bellini", "chair of the Sedgecombe Market Traders Association"),
            "council": _P("Mike Harlow", "leader of Sedgecombe District Council"),
            "heritage": _P("Patricia Wynn", "of the Friends of Sedgecombe Market Hall"),
            "butcher": _P("Derek Amos", "whose family has run a butcher's stall in the hall since 1931"),
        },
        developments=(
            _D(
                "Fire destroys Sedgecombe Market Hall",
                "Sedgecombe's Victorian market hall has been destroyed by a fire that broke out late at "
                "night and raged until the early hours.",
                "Flames were first seen coming from the roof shortly before midnight, and the glow could be "
                "seen for miles.",
            ),
            _D(
                "Sedgecombe traders lose livelihoods in market hall fire",
                "Traders who ran stalls in Sedgecombe Market Hall say they have lost their stock, their "
                "equipment and their income in the fire.",
                "Most traders had insurance for their stock, but several say their policies will not cover "
                "months without income.",
            ),
            _D(
                "Investigators examine cause of Sedgecombe Market Hall fire",
                "Fire investigators have begun searching the ruins of Sedgecombe Market Hall to establish "
                "how the blaze started.",
                "Investigators are focusing on a storeroom at the back of the hall where traders kept "
                "refrigeration equipment.",
            ),
            _D(
                "Temporary market opens on Church Square after Sedgecombe fire",
                "A temporary market with gazebos and trailers has opened on Sedgecombe's Church Square so "
                "that traders from the burned market hall can keep working.",
                "The council has provided gazebos, generators and a refrigerated trailer for butchers and "
                "fishmongers.",
            ),
            _D(
                "Fundraiser for Sedgecombe market traders passes £100,000",
                "An online fundraiser for traders who lost their stalls in the Sedgecombe Market Hall fire "
                "has raised more than £100,000.",
                "The appeal was started by a regular customer and has received donations from more than "
                "3,000 people.",
            ),
            _D(
                "Sedgecombe Market Hall fire started by electrical fault, report says",
                "A fire service report has concluded that the Sedgecombe Market Hall fire was caused by an "
                "electrical fault in a storeroom.",
                "The report found that an overloaded extension lead in the storeroom overheated and set "
                "fire to cardboard boxes.",
            ),
            _D(
                "Council pledges to rebuild Sedgecombe Market Hall",
                "Sedgecombe District Council has promised to rebuild the market hall destroyed by fire, "
                "using insurance money and heritage grants.",
                "The council says rebuilding could take three years and will cost at least £9m.",
            ),
            _D(
                "Heritage campaigners urge faithful restoration of Sedgecombe hall",
                "Heritage campaigners want Sedgecombe Market Hall rebuilt exactly as it was, including its "
                "cast-iron roof and clock tower.",
                "The campaigners have collected old photographs and drawings to help architects reconstruct "
                "the hall's ironwork.",
            ),
            _D(
                "Sedgecombe traders divided over market hall rebuild plans",
                "Traders from Sedgecombe Market Hall are split over whether the rebuilt hall should copy "
                "the Victorian design or offer modern stalls and a food court.",
                "Some younger traders want space for street food stalls, while long-standing stallholders "
                "want the old layout back.",
            ),
            _D(
                "Architects chosen for Sedgecombe Market Hall restoration",
                "Sedgecombe District Council has appointed a firm of conservation architects to design the "
                "restoration of the fire-damaged market hall.",
                "The practice restored a Victorian corn exchange in another town and will work with traders "
                "on the design.",
            ),
            _D(
                "Sedgecombe traders mark three months since market hall fire",
                "Three months after fire destroyed Sedgecombe Market Hall, its traders are still working "
                "from Church Square and waiting for a date for the rebuild.",
                "Footfall at the temporary market has held up well, but traders say the winter weather has "
                "been hard.",
            ),
        ),
        facts=(
            "Sedgecombe Market Hall was built in 1878 and is a listed building.",
            "The hall housed 62 stalls, including butchers, fishmongers, florists and a cobbler.",
            "Around 30 firefighters and eight fire engines tackled the Sedgecombe blaze at its height.",
            "The market hall's cast-iron roof partly collapsed during the fire.",
            "No one was hurt because the fire broke out after the market had closed for the night.",
            "Some traders had worked in Sedgecombe Market Hall for three generations.",
            "The council owns the market hall and had insured it for its full rebuilding cost.",
            "The hall's clock tower, a local landmark, survived the fire but was badly scorched.",
        ),
        quotes=(
            (
                "fire",
                "This was a very difficult fire in an old building with a lot of timber inside. Crews "
                "did well to stop it spreading.",
            ),
            (
                "traders",
                "The market hall was more than a place to work. It was a family, and we will stick together.",
            ),
            ("council", "Sedgecombe Market Hall will be rebuilt. The question is how, not whether."),
            (
                "heritage",
                "The hall is the heart of Sedgecombe. Anything less than a faithful restoration "
                "would be a betrayal.",
            ),
            (
                "butcher",
                "My grandfather opened this stall. Watching the roof come down was the worst night "
                "of my life.",
            ),
            ("traders", "Customers have been amazing, coming out to Church Square in the rain."),
        ),
        outlook=(
            "The temporary market on Church Square will run at least until the end of the year.",
            "A public consultation on the rebuild will open in the coming weeks.",
            "The council will ask traders what they want from the new hall.",
            "Heritage officers will record the surviving ironwork before it is removed.",
        ),
    ),
)

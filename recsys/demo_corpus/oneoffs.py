"""Content of the demo corpus's standalone pieces (data only).

One-off subjects per section, invented towns and names, and the section-wide sentences that wrap them."""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------------------------------
# Standalone content: one-off pieces per section, filled with invented towns and names.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OneOff:
    tag: str
    headline: str
    lead: str
    detail: str
    role: str  # who gets quoted


@dataclass(frozen=True)
class SectionVoice:
    """Section-wide sentences that wrap a one-off piece, so each piece reads like that section."""

    quotes: tuple[str, ...]
    context: tuple[str, ...]
    closings: tuple[str, ...]


_O = OneOff

TOWNS: tuple[str, ...] = (
    "Wrenfield",
    "Halloway",
    "Brindle Heath",
    "Copperwick",
    "Dunmere",
    "Elsbridge",
    "Farrowdale",
    "Greyhaven",
    "Hollinsby",
    "Juniper Bay",
    "Marlowe Cross",
    "Netherby Vale",
    "Oakhurst Green",
    "Pellam",
    "Quarry Hill",
    "Rushmere End",
    "Stonecrop",
    "Thistleby",
    "Upton Fenn",
    "Wickham Row",
)
FIRST_NAMES: tuple[str, ...] = (
    "Alice",
    "Ben",
    "Chloe",
    "Daniel",
    "Ella",
    "Farid",
    "Grace",
    "Harry",
    "Isla",
    "Jamal",
    "Katie",
    "Liam",
    "Maya",
    "Nathan",
    "Olivia",
    "Pavel",
    "Rosa",
    "Samir",
    "Tessa",
    "Umar",
    "Violet",
    "Will",
    "Yasmin",
    "Zoe",
    "Aiden",
    "Bethany",
    "Callum",
    "Dina",
    "Emeka",
    "Fiona",
)
SURNAMES: tuple[str, ...] = (
    "Abbott",
    "Barlow",
    "Carver",
    "Dalton",
    "Ellery",
    "Fairbairn",
    "Gould",
    "Hensley",
    "Irvine",
    "Jessop",
    "Kerridge",
    "Lowther",
    "Madden",
    "Nayar",
    "Ormerod",
    "Prentice",
    "Quayle",
    "Rowntree",
    "Sutcliffe",
    "Tennant",
    "Upward",
    "Varga",
    "Whitfield",
    "Yardley",
    "Zielinski",
    "Ashworth",
)

ONE_OFFS: dict[str, tuple[OneOff, ...]] = {
    "politics": (
        _O(
            "libraries",
            "Libraries in {town} to open on Sundays under new scheme",
            "Public libraries in {town} and forty other towns will open on Sunday afternoons under a scheme "
            "announced by the culture minister.",
            "The scheme will cost about £12m a year and will be reviewed after two years.",
            "a library campaigner in {town}",
        ),
        _O(
            "defence",
            "Navy to retire two patrol ships early",
            "The defence ministry has confirmed that two coastal patrol ships will be retired three years "
            "earlier than planned to save on maintenance costs.",
            "The vessels have been based at the naval yard near {town} since the 1990s.",
            "a retired naval officer",
        ),
        _O(
            "pensions",
            "State pension age review to report in the autumn",
            "An independent review of the state pension age will publish its findings in the autumn, the "
            "pensions department has said.",
            "The review is examining whether the age should rise faster as life expectancy increases.",
            "a retirement policy researcher",
        ),
        _O(
            "schools",
            "Free breakfast clubs to reach 2,000 more primary schools",
            "Free breakfast clubs will be extended to 2,000 more primary schools from September, the "
            "education secretary has announced.",
            "Head teachers in {town} say hungry pupils struggle to concentrate in morning lessons.",
            "a head teacher in {town}",
        ),
        _O(
            "gambling",
            "Age checks to be required on betting apps",
            "Betting companies will have to carry out stronger age checks on their mobile apps under new "
            "rules set out by ministers.",
            "Companies that fail to comply could face fines of up to ten per cent of their turnover.",
            "a campaigner against gambling harm",
        ),
        _O(
            "fishing",
            "Ministers host talks on northern fishing rights",
            "The foreign secretary has hosted talks with neighbouring governments on fishing quotas in the "
            "northern seas, the first such meeting in six years.",
            "Skippers from {town} say smaller quotas for haddock have pushed several boats out of business.",
            "a skipper from {town}",
        ),
        _O(
            "courts",
            "Courts to trial evening hearings to cut backlog",
            "Magistrates' courts in {town} and five other areas will sit in the evenings as part of a trial "
            "to reduce the backlog of cases.",
            "More than 60,000 cases are waiting to be heard in magistrates' courts.",
            "a magistrate in {town}",
        ),
        _O(
            "policing",
            "Body cameras for every rural police station",
            "Every rural police station will be equipped with body-worn cameras under a plan announced by "
            "the policing minister.",
            "Officers in {town} have shared a handful of cameras between several shifts until now.",
            "a police sergeant in {town}",
        ),
        _O(
            "local-government",
            "{town} council votes to cut number of councillors",
            "{town} District Council has voted to reduce the number of councillors from 48 to 36 to save "
            "money.",
            "The change would save about £200,000 a year in allowances and expenses.",
            "the council's chief executive",
        ),
        _O(
            "lobbying",
            "New register of lobbyists comes into force",
            "A new statutory register of lobbyists has come into force, requiring anyone who lobbies "
            "ministers for payment to declare their clients.",
            "Transparency campaigners say the register still has loopholes for in-house lobbyists.",
            "a transparency campaigner",
        ),
        _O(
            "fuel-duty",
            "Fuel duty frozen for another year",
            "The Treasury has announced that fuel duty will be frozen for another year, keeping the tax on "
            "petrol and diesel unchanged.",
            "Drivers in rural areas such as {town} rely on their cars to get to work and to shops.",
            "a motoring group spokesperson",
        ),
        _O(
            "dentistry",
            "Health secretary promises overhaul of dental contracts",
            "The health secretary has promised to overhaul the contract for dentists after reports that "
            "patients in {town} cannot find an appointment.",
            "Some families in {town} have been travelling more than 50 miles to see a dentist.",
            "a dentist in {town}",
        ),
        _O(
            "visas",
            "Seasonal worker visa scheme extended for farms",
            "The government has extended the seasonal worker visa scheme for another three years, allowing "
            "farms to recruit fruit pickers from abroad.",
            "Growers near {town} say strawberries were left to rot in the fields last summer.",
            "a fruit grower near {town}",
        ),
        _O(
            "parliament",
            "MPs back proxy voting for new parents",
            "Members of parliament have voted to make proxy voting permanent for MPs on parental leave.",
            "The arrangement was first tried as a temporary measure during a previous session.",
            "a backbench MP who campaigned for the change",
        ),
        _O(
            "civil-service",
            "1,500 civil service jobs to move to {town}",
            "The government will move 1,500 civil service jobs from the capital to a new hub in {town} over "
            "the next five years.",
            "The hub will house staff from the transport and environment departments.",
            "the leader of {town} council",
        ),
        _O(
            "transparency",
            "Ministers' meetings to be published every month",
            "Government departments will publish details of ministers' meetings with outside groups every "
            "month instead of every quarter.",
            "The change follows criticism that the quarterly releases were often months late.",
            "a former permanent secretary",
        ),
        _O(
            "devolution",
            "{town} region agrees devolution deal",
            "Councils around {town} have agreed a devolution deal that will hand them control over adult "
            "skills and local transport budgets.",
            "The deal includes £30m a year of extra funding for thirty years.",
            "a council leader",
        ),
        _O(
            "animal-welfare",
            "Ban on imports of young puppies proposed",
            "Ministers have proposed a ban on importing puppies younger than six months to tackle illegal "
            "puppy farming.",
            "Vets say many imported puppies arrive sick and without proper vaccinations.",
            "a vet in {town}",
        ),
        _O(
            "consumer",
            "New rules to end hidden fees on event tickets",
            "Ticket sellers will have to show the full price, including all fees, from the start of the "
            "booking process under new consumer rules.",
            "Fees of up to a quarter of the ticket price have angered music fans.",
            "a consumer rights campaigner",
        ),
        _O(
            "heat-pumps",
            "Heat pumps to be standard in new homes by 2028",
            "All new homes will have to be fitted with heat pumps or other low-carbon heating from 2028, "
            "ministers have confirmed.",
            "Builders in {town} say they are already installing heat pumps in most new homes.",
            "a housebuilder in {town}",
        ),
        _O(
            "broadband",
            "Rural broadband rollout behind schedule, auditors say",
            "The programme to bring fast broadband to rural homes is two years behind schedule, the public "
            "spending watchdog has found.",
            "Thousands of homes around {town} still cannot get speeds fast enough for video calls.",
            "a parish councillor near {town}",
        ),
        _O(
            "road-safety",
            "Speed limit on country lanes to be reviewed",
            "Ministers have ordered a review of the national speed limit on narrow country lanes after a "
            "rise in crashes involving cyclists and horse riders.",
            "Riders near {town} say drivers often pass them far too fast on single-track roads.",
            "a riding school owner near {town}",
        ),
    ),
    "business": (
        _O(
            "retail",
            "Bakery chain Loaf & Ladle opens tenth shop in {town}",
            "Loaf & Ladle, the bakery chain founded by two sisters, has opened its tenth shop, on the high "
            "street in {town}.",
            "The chain bakes its sourdough and pastries at a central kitchen and delivers before dawn.",
            "co-founder of Loaf & Ladle",
        ),
        _O(
            "shipping",
            "Copperline Shipping orders four new cargo vessels",
            "Copperline Shipping has ordered four cargo vessels that can run on methanol, as the company "
            "tries to cut its fuel emissions.",
            "The ships will be delivered over three years and will serve routes around the North Sea.",
            "Copperline's fleet director",
        ),
        _O(
            "technology",
            "Software firm Quillsoft cuts 200 jobs",
            "Quillsoft, the accounting software company based in {town}, is cutting 200 jobs after losing "
            "two of its largest customers.",
            "The company employed about 1,400 people at the end of last year.",
            "Quillsoft's chief executive",
        ),
        _O(
            "supermarkets",
            "Supermarkets cut prices on basics as price war deepens",
            "Two of the largest supermarket chains have cut the price of milk, bread and eggs, deepening a "
            "price war for cost-conscious shoppers.",
            "Grocery inflation has slowed sharply since its peak two years ago.",
            "a retail analyst",
        ),
        _O(
            "brewing",
            "Hopwell Brewery sold to family-owned rival",
            "Hopwell Brewery, which has brewed beer in {town} since 1851, has been sold to a family-owned "
            "rival for an undisclosed sum.",
            "The new owners say they will keep brewing at the {town} site and retain all 90 staff.",
            "Hopwell's managing director",
        ),
        _O(
            "high-streets",
            "High street footfall rises for third month",
            "The number of shoppers visiting high streets rose for the third month in a row, helped by mild "
            "weather and Easter promotions.",
            "Retail parks fared less well, with visitor numbers flat compared with a year earlier.",
            "a footfall analyst",
        ),
        _O(
            "interest-rates",
            "Central bank holds interest rates at 4%",
            "The central bank has kept interest rates at four per cent, saying it wants more evidence that "
            "inflation is under control before cutting.",
            "Two members of the rate-setting committee voted for an immediate cut.",
            "an economist at a City bank",
        ),
        _O(
            "inflation",
            "Inflation falls to lowest level in three years",
            "Consumer price inflation fell to 2.4 per cent last month, its lowest level in three years, "
            "driven by cheaper energy and food.",
            "Services inflation, watched closely by the central bank, remained stubbornly high.",
            "a senior economist",
        ),
        _O(
            "insurance",
            "Car insurance premiums fall for first time in two years",
            "The average price of car insurance has fallen for the first time in two years, according to a "
            "quarterly survey of quotes.",
            "Young drivers in {town} still pay more than twice the national average.",
            "an insurance broker in {town}",
        ),
        _O(
            "startups",
            "Drone delivery start-up Skylark raises £15m",
            "Skylark Logistics, a start-up that delivers medical supplies by drone, has raised £15m from "
            "investors to expand beyond its base in {town}.",
            "The company flies blood samples between hospitals and laboratories in the region.",
            "Skylark's co-founder",
        ),
        _O(
            "department-stores",
            "{town} department store Pemberton's to close after 120 years",
            "Pemberton's, the department store that has traded in {town} since 1906, will close its doors in "
            "the summer.",
            "The store's 85 staff have been offered redundancy or jobs at other shops in the group.",
            "Pemberton's managing director",
        ),
        _O(
            "textiles",
            "Historic textile mill in {town} reopens",
            "A textile mill in {town} that closed in the 1980s has reopened to make woollen blankets and "
            "throws for export.",
            "The owners have restored looms that had been sold for scrap decades ago.",
            "the mill's owner",
        ),
        _O(
            "energy",
            "Energy supplier fined £8m over billing errors",
            "The energy regulator has fined a household energy supplier £8m after thousands of customers "
            "were sent wrong bills.",
            "Affected customers will receive automatic refunds within three months.",
            "a consumer group spokesperson",
        ),
        _O(
            "toys",
            "Toy maker Tinderbox reports record Christmas sales",
            "Tinderbox Toys, the maker of wooden train sets, has reported record Christmas sales after its "
            "products went viral online.",
            "The company is hiring 40 more staff at its workshop in {town}.",
            "Tinderbox's founder",
        ),
        _O(
            "coffee",
            "Coffee roaster switches to compostable packaging",
            "Bramble Roasters, a coffee roaster in {town}, has switched all its bags to compostable "
            "packaging made from wood pulp.",
            "The firm supplies about 300 cafes and sells direct to subscribers.",
            "Bramble's head roaster",
        ),
        _O(
            "offices",
            "Office rents fall as remote working persists",
            "Office rents in regional cities have fallen for the fourth quarter in a row as companies "
            "continue to shrink their workspace.",
            "Landlords are converting older office blocks into flats and laboratories.",
            "a commercial property agent",
        ),
        _O(
            "pubs",
            "Pub group sells 200 pubs to smaller operators",
            "A large pub group is selling 200 of its pubs to smaller operators as it focuses on bigger sites "
            "in city centres.",
            "Several of the pubs being sold are in villages around {town}.",
            "a pub landlord near {town}",
        ),
        _O(
            "dairy",
            "Dairy processor raises milk price paid to farmers",
            "The country's largest dairy processor will pay farmers an extra penny per litre of milk from "
            "next month.",
            "Dairy farmers near {town} say the price still barely covers the cost of feed and fuel.",
            "a dairy farmer near {town}",
        ),
        _O(
            "video-games",
            "{town} games studio hit by surprise success",
            "Pixel Pier, a games studio of twelve people in {town}, has sold a million copies of its puzzle "
            "game in its first month.",
            "The studio plans to double its staff and move into a larger office.",
            "Pixel Pier's studio head",
        ),
        _O(
            "rail-freight",
            "Freight rail operator adds new routes",
            "A rail freight operator has added three new routes carrying containers and building materials, "
            "taking lorries off the roads.",
            "One of the new routes serves a quarry near {town}.",
            "the operator's commercial director",
        ),
        _O(
            "tourism",
            "Holiday park operator reports strong early bookings",
            "Sandpiper Parks, which runs caravan and lodge sites including one at {town}, says bookings for "
            "the summer are ahead of last year.",
            "Families are booking earlier to secure school holiday dates.",
            "Sandpiper's chief operating officer",
        ),
        _O(
            "furniture",
            "Furniture maker moves production back from overseas",
            "Ashgrove Furniture is moving the production of its sofas from overseas to a new factory in "
            "{town}, creating 150 jobs.",
            "The company says shipping delays and costs made overseas manufacturing less attractive.",
            "Ashgrove's managing director",
        ),
    ),
    "sport": (
        _O(
            "rowing",
            "{town} Rowing Club opens new boathouse",
            "{town} Rowing Club has opened a new boathouse on the river, replacing a wooden shed that had "
            "stood since the 1930s.",
            "The building has space for 40 boats and a gym for winter training.",
            "the club's captain",
        ),
        _O(
            "hockey",
            "{town} hockey team wins promotion",
            "{town} Hockey Club's women's team has won promotion to the national league with two matches to "
            "spare.",
            "The team has won 15 of its 16 matches this season.",
            "the team's head coach",
        ),
        _O(
            "tennis",
            "Teenager from {town} wins junior tennis title",
            "A 15-year-old from {town} has won the national under-16 tennis championship without dropping a "
            "set.",
            "She trains four evenings a week at the indoor courts in {town}.",
            "her coach",
        ),
        _O(
            "boxing",
            "{town} boxer to fight for national title",
            "A boxer from {town} will fight for the national lightweight title in front of a home crowd next "
            "month.",
            "He is unbeaten in 14 professional fights, with eight wins by knockout.",
            "the boxer's trainer",
        ),
        _O(
            "netball",
            "Netball captain announces retirement",
            "The captain of the national netball team has announced she will retire at the end of the season "
            "after 110 international caps.",
            "She began playing at a youth club in {town} when she was nine.",
            "the national team coach",
        ),
        _O(
            "rugby",
            "{town} rugby club appoints new head coach",
            "{town} Rugby Club has appointed a former international scrum-half as its new head coach.",
            "The club finished mid-table last season after a long injury list.",
            "the club's chairman",
        ),
        _O(
            "swimming",
            "Swimmer breaks national 200m backstroke record",
            "A 19-year-old swimmer has broken the national 200m backstroke record at the indoor "
            "championships in {town}.",
            "Her time was almost a second faster than the previous record set in 2019.",
            "her coach",
        ),
        _O(
            "cricket",
            "County signs overseas fast bowler",
            "A county cricket club has signed an overseas fast bowler for the coming season, hoping to "
            "challenge for the championship.",
            "The bowler took 40 wickets in his last domestic season at home.",
            "the county's director of cricket",
        ),
        _O(
            "golf",
            "{town} golf course to host amateur championship",
            "The links course at {town} has been chosen to host next year's national amateur golf "
            "championship.",
            "The course has been lengthened and its bunkers rebuilt in preparation.",
            "the club secretary",
        ),
        _O(
            "darts",
            "Darts player from {town} hits nine-dart finish",
            "A darts player from {town} hit a nine-dart finish on television, the first of his professional "
            "career.",
            "He still works part-time as a plumber between tournaments.",
            "the player's manager",
        ),
        _O(
            "snooker",
            "Snooker veteran reaches ranking final at 48",
            "A 48-year-old snooker player has reached his first ranking final in a decade.",
            "He practises for six hours a day at a club in {town}.",
            "his long-time practice partner",
        ),
        _O(
            "athletics",
            "Indoor athletics championships set records for entries",
            "The national indoor athletics championships in {town} have attracted a record number of "
            "entries.",
            "More than 700 athletes will compete over two days in the new arena.",
            "the event director",
        ),
        _O(
            "horse-racing",
            "Trainer from {town} saddles 100th winner",
            "A racehorse trainer based near {town} has saddled her 100th winner, less than five years after "
            "taking out a licence.",
            "Her yard has grown from six horses to more than forty.",
            "the trainer's head lad",
        ),
        _O(
            "chess",
            "{town} teenager becomes youngest chess grandmaster",
            "A 14-year-old from {town} has become the country's youngest chess grandmaster.",
            "He learned to play with his grandfather at the age of five.",
            "his chess coach",
        ),
        _O(
            "running",
            "Record entries for {town} half marathon",
            "The {town} half marathon has attracted a record 12,000 entries, with places selling out in two "
            "days.",
            "Runners will raise money for more than 200 charities.",
            "the race organiser",
        ),
        _O(
            "womens-football",
            "Women's football match sets attendance record",
            "A women's league match in {town} has set a club attendance record, with more than 9,000 fans in "
            "the stadium.",
            "Ticket prices were kept at five pounds for adults and one pound for children.",
            "the club's head of women's football",
        ),
        _O(
            "ice-hockey",
            "{town} ice hockey team reaches play-off final",
            "{town} Stingers have reached the ice hockey play-off final for the first time in their history.",
            "The club's rink was nearly closed three years ago because of rising energy costs.",
            "the Stingers' head coach",
        ),
        _O(
            "sailing",
            "Regatta returns to {town} after ten-year gap",
            "The {town} sailing regatta will return this summer after a ten-year gap, with more than 150 "
            "boats expected.",
            "Volunteers have repaired the harbour slipway to allow larger dinghies to launch.",
            "the regatta chair",
        ),
        _O(
            "table-tennis",
            "Table tennis club in {town} wins national league",
            "A table tennis club run from a church hall in {town} has won the national league title.",
            "The club has more than 100 junior members.",
            "the club's founder",
        ),
        _O(
            "basketball",
            "New basketball arena planned for {town}",
            "Plans have been submitted for a 4,000-seat basketball arena in {town} that would host the "
            "city's professional team.",
            "The arena would also be used for concerts and community sport.",
            "the team's owner",
        ),
        _O(
            "badminton",
            "{town} badminton pair reach international final",
            "A mixed doubles badminton pair from {town} have reached the final of an international "
            "tournament for the first time.",
            "The pair have played together since they met at a school club at the age of twelve.",
            "their coach",
        ),
        _O(
            "squash",
            "Squash courts in {town} saved from demolition",
            "Squash players in {town} have saved their courts from demolition after raising money to buy the "
            "building from the council.",
            "The club has produced two national junior champions in the past decade.",
            "the squash club's treasurer",
        ),
    ),
    "science": (
        _O(
            "bees",
            "Urban gardens help wild bees thrive, study finds",
            "Gardens and allotments in towns such as {town} support more species of wild bee than nearby "
            "farmland, a study has found.",
            "Researchers counted bees at 120 sites over three summers.",
            "an ecologist who led the study",
        ),
        _O(
            "entomology",
            "New species of beetle discovered in {town} woodland",
            "A new species of beetle has been identified in ancient woodland near {town}, the first such "
            "discovery in the region for decades.",
            "The tiny beetle lives in rotting oak wood and is about three millimetres long.",
            "an entomologist at the natural history museum",
        ),
        _O(
            "astronomy",
            "Meteor shower expected to peak this weekend",
            "Stargazers are being urged to look up this weekend as an annual meteor shower reaches its peak.",
            "Up to 60 meteors an hour may be visible from dark sites such as the hills above {town}.",
            "an astronomer at the {town} observatory",
        ),
        _O(
            "archaeology",
            "Ancient bones found in cave near {town}",
            "Cavers exploring a cave system near {town} have found animal bones thought to be more than "
            "10,000 years old.",
            "The remains include the bones of reindeer and wild horse.",
            "an archaeologist examining the bones",
        ),
        _O(
            "sleep",
            "Teenagers who sleep longer do better at school, study suggests",
            "Teenagers who get more than eight hours of sleep a night perform better in exams, according to "
            "a study of 5,000 pupils.",
            "The researchers say later school start times could help.",
            "a sleep scientist",
        ),
        _O(
            "robotics",
            "Robot hand learns to handle fragile fruit",
            "Engineers have built a robotic hand that can pick ripe raspberries without bruising them.",
            "The hand uses soft fingers filled with air and a camera to judge ripeness.",
            "a robotics engineer on the project",
        ),
        _O(
            "oceans",
            "Coral reefs recover faster where fishing is banned",
            "Coral reefs in protected areas recover from heatwaves twice as fast as those open to fishing, "
            "researchers have found.",
            "The team surveyed more than 300 reefs over fifteen years.",
            "a marine biologist",
        ),
        _O(
            "quantum",
            "Quantum computer keeps data stable for record time",
            "Physicists have kept information stored in a quantum computer stable for more than a second, a "
            "record for their type of machine.",
            "Stability is one of the biggest obstacles to building useful quantum computers.",
            "a physicist involved in the work",
        ),
        _O(
            "hedgehogs",
            "Hedgehog numbers in towns stabilise, survey shows",
            "Hedgehog numbers in towns have stopped falling, though they continue to decline in the "
            "countryside, a national survey shows.",
            "Volunteers in {town} have cut holes in garden fences to create hedgehog highways.",
            "a wildlife charity scientist",
        ),
        _O(
            "antibiotics",
            "Soil bacteria yield possible new antibiotic",
            "Scientists have found a molecule made by soil bacteria that kills drug-resistant infections in "
            "laboratory tests.",
            "The soil sample was collected from a garden in {town}.",
            "a microbiologist who led the research",
        ),
        _O(
            "telescopes",
            "Observatory installs new camera on historic telescope",
            "An observatory near {town} has fitted a modern digital camera to its 100-year-old telescope.",
            "Schools will be able to book time on the telescope over the internet.",
            "the observatory's director",
        ),
        _O(
            "palaeontology",
            "Dinosaur footprints revealed by winter storms",
            "Winter storms have washed sand away from a beach near {town} to reveal dozens of dinosaur "
            "footprints.",
            "The prints were made by plant-eating dinosaurs about 140 million years ago.",
            "a palaeontologist who surveyed the site",
        ),
        _O(
            "birds",
            "Tiny trackers reveal migration route of swifts",
            "Tracking devices weighing less than a gram have revealed the route swifts take between their "
            "summer and winter homes.",
            "Some birds flew more than 800 kilometres in a single day.",
            "an ornithologist",
        ),
        _O(
            "volcanoes",
            "Volcano monitoring network gets new sensors",
            "Scientists have installed new sensors on a volcanic island to give earlier warning of "
            "eruptions.",
            "The sensors measure tiny changes in the shape of the ground and gases in the air.",
            "a volcanologist",
        ),
        _O(
            "nutrition",
            "Fibre-rich diet changes gut bacteria within weeks",
            "Eating more fibre changes the mix of bacteria in the gut within two weeks, a small trial has "
            "found.",
            "Volunteers ate beans, oats and vegetables instead of processed food.",
            "a nutrition scientist",
        ),
        _O(
            "recycling",
            "Enzyme breaks down plastic bottles in hours",
            "Chemists have improved an enzyme so that it can break down plastic bottles into their building "
            "blocks in a few hours.",
            "The building blocks can be used to make new bottles of the same quality.",
            "a chemist on the team",
        ),
        _O(
            "earthquakes",
            "Fibre-optic cables used to detect earthquakes",
            "Researchers have turned ordinary internet cables into earthquake detectors by measuring tiny "
            "changes in the light passing through them.",
            "The technique was tested on a cable running under {town}.",
            "a seismologist",
        ),
        _O(
            "language",
            "Babies learn word sounds before birth, study finds",
            "Newborn babies recognise the rhythm of their parents' language, suggesting they begin learning "
            "it in the womb.",
            "The study measured the brain activity of 60 newborns.",
            "a developmental psychologist",
        ),
        _O(
            "glaciers",
            "Mountain glaciers shrank faster last year",
            "Mountain glaciers lost more ice last year than in any year since records began, scientists have "
            "reported.",
            "Some smaller glaciers have already disappeared completely.",
            "a glaciologist",
        ),
        _O(
            "solar-power",
            "Solar cell sets efficiency record",
            "A solar cell that stacks two materials on top of each other has converted a record share of "
            "sunlight into electricity.",
            "The researchers hope the design can be made cheaply on existing factory lines.",
            "a materials scientist",
        ),
        _O(
            "weather-science",
            "Weather balloons launched from {town} school",
            "Pupils at a secondary school in {town} have launched weather balloons that reached the edge of "
            "space and sent back temperature readings.",
            "The balloons climbed to more than 30 kilometres before bursting.",
            "the school's physics teacher",
        ),
        _O(
            "medicine",
            "Blood test could spot bowel problems earlier",
            "A simple blood test may be able to identify people at risk of serious bowel disease years "
            "before symptoms appear, researchers say.",
            "The test looks for a pattern of proteins released by inflamed tissue.",
            "a gastroenterologist involved in the research",
        ),
    ),
    "culture": (
        _O(
            "theatre",
            "{town} theatre revives forgotten comedy",
            "The Playhouse in {town} is reviving a comedy that has not been staged for more than 80 years.",
            "The play follows two rival hat makers who fall in love.",
            "the production's director",
        ),
        _O(
            "books",
            "First novel wins Wrenlow book prize",
            "A debut novel about a family of lighthouse keepers has won the Wrenlow prize for fiction.",
            "The author wrote the book in the evenings while working as a hospital porter in {town}.",
            "the chair of the judges",
        ),
        _O(
            "classical-music",
            "{town} Symphony Orchestra names new conductor",
            "The {town} Symphony Orchestra has appointed a 34-year-old conductor as its new music director.",
            "She will conduct at least twelve concerts a season.",
            "the orchestra's chief executive",
        ),
        _O(
            "museums",
            "{town} Museum reopens after two-year refurbishment",
            "The {town} Museum has reopened after a two-year refurbishment, with new galleries on local "
            "history and natural science.",
            "The building's Victorian glass roof has been repaired.",
            "the museum's curator",
        ),
        _O(
            "folk-music",
            "Folk festival in {town} adds extra day",
            "The {town} Folk Festival will run for four days this year after record demand for tickets.",
            "The line-up includes fiddle players, singers and dance troupes.",
            "the festival organiser",
        ),
        _O(
            "television",
            "TV crime drama to be filmed in {town}",
            "A new television crime drama will be filmed in {town} this spring, with locals invited to "
            "appear as extras.",
            "The six-part series follows a detective returning to her home town.",
            "the series producer",
        ),
        _O(
            "poetry",
            "{town} schoolchildren win national poetry competition",
            "Pupils from a primary school in {town} have won a national poetry competition with a poem about "
            "the sea.",
            "The poem will be printed on posters in railway stations.",
            "the pupils' teacher",
        ),
        _O(
            "photography",
            "Photography exhibition captures fading seaside towns",
            "An exhibition of photographs of seaside towns, including {town}, has opened at a gallery.",
            "The photographer spent five winters visiting resorts out of season.",
            "the photographer",
        ),
        _O(
            "dance",
            "Ballet company announces tour of small towns",
            "A national ballet company will tour towns without a major theatre, including {town}, this "
            "autumn.",
            "Performances will take place in school halls and community centres.",
            "the company's artistic director",
        ),
        _O(
            "choirs",
            "Community choir in {town} celebrates 50 years",
            "A community choir in {town} is celebrating its 50th anniversary with a concert in the parish "
            "church.",
            "The choir has around 80 members aged from 16 to 92.",
            "the choir's musical director",
        ),
        _O(
            "comics",
            "Comic artist from {town} wins award",
            "A comic book artist from {town} has won an award for a graphic novel about her grandmother's "
            "childhood.",
            "The book took four years to draw.",
            "the awards' organiser",
        ),
        _O(
            "crafts",
            "Craft fair draws record crowds in {town}",
            "More than 5,000 people visited a craft fair in {town} over the weekend, a record for the event.",
            "Stallholders sold pottery, woodwork, jewellery and knitwear.",
            "the fair's organiser",
        ),
        _O(
            "jazz",
            "Jazz club in {town} to close after 40 years",
            "A basement jazz club in {town} that has hosted musicians for 40 years will close next month.",
            "The owners say rising rents and energy bills made it impossible to continue.",
            "the club's owner",
        ),
        _O(
            "architecture",
            "Library in {town} wins architecture award",
            "A new public library in {town} has won a national architecture award for its timber design.",
            "The building uses wood from local forests and needs little heating.",
            "the project's architect",
        ),
        _O(
            "gaming-history",
            "Museum of video games opens",
            "A museum dedicated to the history of video games has opened, with more than 200 playable "
            "machines.",
            "Visitors can play arcade games from the 1970s onwards.",
            "the museum's founder",
        ),
        _O(
            "opera",
            "Opera company stages production in a car park",
            "A touring opera company has staged a production in a multi-storey car park in {town}.",
            "Audiences moved between floors as the story unfolded.",
            "the company's director",
        ),
        _O(
            "sculpture",
            "Sculpture trail opens in {town} forest",
            "A trail of twelve sculptures made from fallen trees has opened in the forest near {town}.",
            "The works were made by artists during a month-long residency.",
            "the trail's curator",
        ),
        _O(
            "radio",
            "Community radio station marks 25 years on air",
            "A community radio station in {town} is celebrating 25 years of broadcasting, run entirely by "
            "volunteers.",
            "The station's presenters include a retired vicar and a group of teenagers.",
            "the station manager",
        ),
        _O(
            "dance-schools",
            "{town} dance school sends pupils to national finals",
            "Ten pupils from a dance school in {town} have qualified for national finals in tap and "
            "contemporary dance.",
            "The school started in a church hall twenty years ago.",
            "the school's principal",
        ),
        _O(
            "rare-books",
            "Rare books found in {town} library basement",
            "Librarians in {town} have found a collection of rare books, including a printed herbal from the "
            "1600s, in a basement storeroom.",
            "The books will be cleaned and catalogued before going on display.",
            "a librarian in {town}",
        ),
        _O(
            "cinema",
            "Volunteers reopen art deco cinema in {town}",
            "An art deco cinema in {town} that closed twenty years ago has been reopened by a team of "
            "volunteers.",
            "The volunteers restored the original seats and the painted ceiling.",
            "the cinema's volunteer manager",
        ),
        _O(
            "brass-bands",
            "{town} brass band wins regional championship",
            "The {town} brass band has won its regional championship and will play at the national finals in "
            "the autumn.",
            "The band was founded in 1887 by workers at a local colliery.",
            "the band's conductor",
        ),
    ),
    "local": (
        _O(
            "road-safety",
            "Zebra crossing approved outside {town} school",
            "A zebra crossing will be installed outside a primary school in {town} after a campaign by "
            "parents.",
            "Parents collected more than 1,000 signatures in support.",
            "a parent who led the campaign",
        ),
        _O(
            "roads",
            "Pothole repairs in {town} to be speeded up",
            "The county council has promised to fix potholes in {town} within a week of them being reported.",
            "Residents reported more than 2,000 potholes last winter.",
            "the council's highways officer",
        ),
        _O(
            "pets",
            "Lost dog reunited with {town} family after two years",
            "A dog that went missing in {town} two years ago has been reunited with its family after being "
            "found 80 miles away.",
            "The dog was identified from its microchip by a vet.",
            "the dog's owner",
        ),
        _O(
            "allotments",
            "Allotment waiting list in {town} reaches ten years",
            "People wanting an allotment in {town} now face a wait of up to ten years, the town council "
            "says.",
            "The council is looking for land to create 50 new plots.",
            "the allotment society secretary",
        ),
        _O(
            "schools",
            "{town} school wins eco award",
            "A primary school in {town} has won a national eco award for its vegetable garden and recycling "
            "scheme.",
            "Pupils grow food that is cooked in the school kitchen.",
            "the school's headteacher",
        ),
        _O(
            "bins",
            "Bin collections in {town} to change to fortnightly",
            "Household rubbish in {town} will be collected every two weeks instead of weekly from the "
            "summer.",
            "Food waste will still be collected every week.",
            "the council's waste manager",
        ),
        _O(
            "buses",
            "New bus route links {town} villages to hospital",
            "A new bus route will link villages around {town} to the district hospital for the first time.",
            "Buses will run every hour from seven in the morning.",
            "a councillor who pushed for the route",
        ),
        _O(
            "centenarian",
            "{town} woman celebrates 100th birthday",
            "A woman from {town} has celebrated her 100th birthday with a party at her care home.",
            "She worked as a telephone operator for 40 years.",
            "her granddaughter",
        ),
        _O(
            "parks",
            "New playground opens in {town} park",
            "A new playground with a zip wire and accessible swings has opened in the main park in {town}.",
            "The equipment was chosen after children were asked for their ideas.",
            "a town councillor",
        ),
        _O(
            "community",
            "Community fridge in {town} cuts food waste",
            "A community fridge in {town} where shops leave surplus food has given away ten tonnes of food "
            "in its first year.",
            "Anyone can take food from the fridge without charge.",
            "the volunteer who runs the fridge",
        ),
        _O(
            "charity",
            "Fun run in {town} raises money for hospice",
            "More than 800 people took part in a fun run in {town} to raise money for the local hospice.",
            "Many runners wore fancy dress.",
            "the hospice's fundraising manager",
        ),
        _O(
            "street-lights",
            "{town} street lights switched to LED",
            "All street lights in {town} have been switched to LED bulbs, which the council says will halve "
            "its electricity bill.",
            "The new lights can be dimmed late at night.",
            "the council's energy officer",
        ),
        _O(
            "post-office",
            "Village post office near {town} saved by volunteers",
            "A village post office near {town} has been saved from closure after volunteers agreed to run "
            "it.",
            "The post office will open four mornings a week.",
            "one of the volunteers",
        ),
        _O(
            "swimming-pools",
            "{town} swimming pool reopens after repairs",
            "The public swimming pool in {town} has reopened after a year of repairs to its roof and "
            "heating.",
            "Swimming lessons for children will restart next week.",
            "the leisure centre manager",
        ),
        _O(
            "trees",
            "Thousand trees planted in {town}",
            "Volunteers have planted a thousand trees on the edge of {town} to create a new community "
            "woodland.",
            "The trees include oak, birch, rowan and wild cherry.",
            "the woodland project leader",
        ),
        _O(
            "parking",
            "Parking charges in {town} to rise",
            "Parking charges in {town} town centre car parks will rise by 20 pence an hour from April.",
            "Traders fear the rise will drive shoppers to out-of-town retail parks.",
            "a {town} shop owner",
        ),
        _O(
            "history",
            "Blue plaque for {town} suffragette",
            "A blue plaque has been unveiled in {town} in honour of a suffragette who lived in the town.",
            "She was arrested three times while campaigning for votes for women.",
            "the local history society chair",
        ),
        _O(
            "litter",
            "Litter pickers in {town} collect 500 bags",
            "A group of volunteer litter pickers in {town} has collected more than 500 bags of rubbish in a "
            "year.",
            "The group meets every Sunday morning.",
            "the group's founder",
        ),
        _O(
            "markets",
            "Farmers' market in {town} moves to weekly",
            "The farmers' market in {town} will be held every week instead of monthly after growing demand.",
            "Stalls sell local meat, cheese, vegetables and bread.",
            "the market's organiser",
        ),
        _O(
            "youth",
            "Youth club reopens in {town}",
            "A youth club in {town} that closed ten years ago has reopened with funding from a local "
            "charity.",
            "It will open three evenings a week for young people aged 11 to 18.",
            "the youth club leader",
        ),
        _O(
            "libraries",
            "Mobile library returns to villages around {town}",
            "A mobile library van will once again visit villages around {town} after a gap of six years.",
            "The van carries about 3,000 books and stops for an hour in each village.",
            "the county's libraries manager",
        ),
        _O(
            "cafes",
            "Repair cafe in {town} fixes its 1,000th item",
            "A repair cafe in {town}, where volunteers mend broken household items for free, has fixed its "
            "1,000th item.",
            "Toasters, lamps and bicycles are among the most common repairs.",
            "one of the volunteer fixers",
        ),
    ),
}

VOICES: dict[str, SectionVoice] = {
    "politics": SectionVoice(
        quotes=(
            "It is a step in the right direction, but the details will matter.",
            "People have waited a long time for this, and they will judge the government on results.",
            "We will be watching closely to make sure the promises are kept.",
            "This has been a long campaign, and it is good to see ministers finally listening.",
        ),
        context=(
            "Opposition parties said the plan did not go far enough.",
            "The announcement was made in a written statement to parliament.",
            "Officials said the policy would be reviewed after its first year.",
            "The proposal will be subject to a public consultation.",
        ),
        closings=(
            "A government spokesperson said further details would be set out in the coming months.",
            "The measures are expected to take effect next year.",
            "Campaign groups said they would continue to press for wider changes.",
            "Ministers are due to answer questions on the plan next week.",
        ),
    ),
    "business": SectionVoice(
        quotes=(
            "Trading conditions remain tough, but we are confident about the year ahead.",
            "Our customers have told us what they want, and we have listened.",
            "This is a big moment for the business and for everyone who works here.",
            "The figures are encouraging, though it is too early to call a turning point.",
        ),
        context=(
            "The company did not disclose the financial terms.",
            "Shares in listed rivals were little changed on the news.",
            "Economists said the figures reflected a wider trend across the sector.",
            "The firm's results for the year are due in the spring.",
        ),
        closings=(
            "Industry groups said more support was needed for smaller firms.",
            "Analysts will be watching the next set of figures closely.",
            "The company says it will update investors later in the year.",
            "Trade unions said they would seek talks with management.",
        ),
    ),
    "sport": SectionVoice(
        quotes=(
            "It has taken years of hard work, and everyone involved deserves this.",
            "We will enjoy the moment, but there is plenty still to improve.",
            "The support from the local community has been incredible.",
            "This is what you train for on cold mornings when nobody is watching.",
        ),
        context=(
            "The achievement caps a remarkable season.",
            "Volunteers run most of the club's junior sessions.",
            "Membership has grown steadily over the past three years.",
            "The club relies on fundraising and sponsorship from local businesses.",
        ),
        closings=(
            "The next fixture is scheduled for later this month.",
            "Tickets are available from the club's website.",
            "The governing body has congratulated everyone involved.",
            "Attention now turns to next season.",
        ),
    ),
    "science": SectionVoice(
        quotes=(
            "This is an exciting result, but we need more data before drawing firm conclusions.",
            "It opens up questions we did not even know to ask a few years ago.",
            "The work was only possible because of years of careful measurements.",
            "We hope other teams will test our findings independently.",
        ),
        context=(
            "The findings have been published in a peer-reviewed journal.",
            "The work was funded by a national research council.",
            "Scientists not involved in the study called the results promising.",
            "The team plans a larger follow-up study.",
        ),
        closings=(
            "The researchers say more work is needed to confirm the results.",
            "The data will be made freely available to other scientists.",
            "Further results are expected next year.",
            "Members of the public can find out more at an open day in the summer.",
        ),
    ),
    "culture": SectionVoice(
        quotes=(
            "We wanted to make something people would talk about on the way home.",
            "It has been a labour of love from start to finish.",
            "Audiences here have always been curious and generous.",
            "Art should be for everyone, not just those who can afford big city tickets.",
        ),
        context=(
            "Tickets are priced to be affordable for families.",
            "The project was supported by an arts council grant.",
            "Local volunteers have helped at every stage.",
            "Critics have praised the work's ambition.",
        ),
        closings=(
            "The event runs until the end of the month.",
            "Further dates are expected to be announced.",
            "Entry is free, though donations are welcome.",
            "Organisers hope to make it an annual fixture.",
        ),
    ),
    "local": SectionVoice(
        quotes=(
            "It has taken a lot of work from a lot of people, and we are delighted.",
            "This will make a real difference to people in the town.",
            "We listened to residents, and this is the result.",
            "It shows what a community can do when it pulls together.",
        ),
        context=(
            "The town council backed the plan unanimously.",
            "Residents had raised the issue at several public meetings.",
            "Local businesses have offered their support.",
            "The project has been funded partly by donations.",
        ),
        closings=(
            "More information is available from the town council.",
            "Volunteers are still needed and can sign up online.",
            "An opening event is planned for next month.",
            "The council says it will review the scheme after a year.",
        ),
    ),
}

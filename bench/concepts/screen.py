#!/usr/bin/env python
"""Screening for the concept dev set: which sample records a judge reads for each concept.

Each concept has a broad, high-recall pattern of its names, abbreviations and synonyms in English
and Chinese. Every record of the bundled sample whose title, abstract (either language) or
keywords (MeSH headings included) match is a candidate; the judge reads every candidate and
grades it (README.md, judgments.tsv). Plain regular expressions over the records as the readers
give them, on purpose: the judgments must not depend on the search engine they measure.

    python bench/concepts/screen.py                 # counts per concept
    python bench/concepts/screen.py c03 c04 --list  # candidates: concept, record id, title
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from corpus.record import Record  # noqa: E402

# Abbreviations must stand alone as Latin tokens (TIL must not match "until"). Not \b: Chinese
# characters are word characters to `re`, so \bCAR-T\b would miss "CAR-T细胞".
_R = r"(?![A-Za-z0-9])"
_LATIN_ALNUM = re.compile(r"[A-Za-z0-9]")


# The context of the "X of immunotherapy" concepts (toxicities, resistance, a disease's immunotherapy).
IMMUNO = ("immunotherap", "checkpoint", r"PD-?L?1", "CTLA-?4", "ipilimumab", "nivolumab", "pembrolizumab",
          "atezolizumab", "durvalumab", "avelumab", "cemiplimab", "camrelizumab", "sintilimab", "tislelizumab",
          "toripalimab", "tremelimumab", r"CAR[- ]?T", "chimeric antigen", "bispecific", "blinatumomab",
          "cell therapy", "免疫治疗", "免疫疗法", "免疫检查点", "细胞治疗")


@dataclass(frozen=True)
class Concept:
    """One concept: its two search-box queries, its screening pattern and the neighbours a ranker
    confuses it with (the judging notes in README.md say how neighbours were graded)."""

    id: str  # c01 ... ; the queries are `<id>-en` and `<id>-zh`
    name: str
    en: str
    zh: str
    names: tuple[str, ...]  # case-insensitive regexes: names, synonyms, drug names, Chinese terms
    abbrevs: tuple[str, ...] = ()  # case-sensitive, whole Latin tokens (TIL must not match "until")
    neighbours: tuple[str, ...] = ()
    # For "X of immunotherapy" concepts: a record must also match one of these (case-insensitive).
    context: tuple[str, ...] = ()

    @cached_property
    def _names(self) -> re.Pattern[str]:
        # lower-cased pattern over lower-cased text: many times faster than re.IGNORECASE, which
        # stops `re` from skipping ahead on the branches' first characters
        return re.compile("|".join(n.lower() for n in self.names))

    @cached_property
    def _abbrevs(self) -> re.Pattern[str] | None:
        # the left boundary is checked in matches(): a look-behind in front would slow every search
        return re.compile(f"(?:{'|'.join(self.abbrevs)}){_R}") if self.abbrevs else None

    @cached_property
    def _context(self) -> re.Pattern[str] | None:
        return re.compile("|".join(c.lower() for c in self.context)) if self.context else None

    def matches(self, text: str, lower: str | None = None) -> bool:
        """Whether a record's screened text (and `lower`, the same lower-cased) is a candidate."""
        lower = text.lower() if lower is None else lower
        if not (self._names.search(lower) or self._abbreviation_in(text)):
            return False
        return self._context is None or bool(self._context.search(lower))

    def _abbreviation_in(self, text: str) -> bool:
        if self._abbrevs is None:
            return False
        m = self._abbrevs.search(text)
        while m:
            if m.start() == 0 or not _LATIN_ALNUM.match(text[m.start() - 1]):
                return True
            m = self._abbrevs.search(text, m.start() + 1)
        return False


CONCEPTS: tuple[Concept, ...] = (
    Concept("c01", "CAR-T cell therapy", "CAR-T cell therapy", "CAR-T细胞治疗",
            ("chimeric antigen receptor", "嵌合抗原受体", "tisagenlecleucel", "axicabtagene", "lisocabtagene",
             "brexucabtagene", "idecabtagene", "ciltacabtagene", "relmacabtagene", "kymriah", "yescarta"),
            ("CAR[- ]?T", "CAR", "CARs", "CAR[- ]modified"),
            ("TCR-T", "TIL therapy", "CAR-NK", "bispecific T-cell engagers")),
    Concept("c02", "TCR-T cell therapy", "TCR-T cell therapy", "TCR-T细胞治疗",
            ("T[- ]cell receptor", "T细胞受体", "TCR-T", "engineered TCR", "afamitresgene", "tebentafusp",
             "NY-ESO-1"),
            ("TCRs?", "TCR[- ]?Ts?", r"MAGE-A\d*"),
            ("CAR-T", "TIL therapy")),
    Concept("c03", "TIL therapy", "TIL therapy for solid tumours", "肿瘤浸润淋巴细胞治疗实体瘤",
            ("tumou?r[- ]infiltrating lymphocyte", "肿瘤浸润淋巴细胞", "lifileucel", "adoptive (?:cell|T[- ]cell|immuno)",
             "adoptively transferred", "过继"),
            ("TILs?",),
            ("CAR-T", "TILs as a biomarker", "TCR-T")),
    Concept("c04", "tumour-infiltrating lymphocytes as a biomarker",
            "tumour-infiltrating lymphocytes as a prognostic biomarker", "肿瘤浸润淋巴细胞作为预后标志物",
            ("tumou?r[- ]infiltrating lymphocyte", "肿瘤浸润淋巴细胞", "lymphocytic infiltrat", "immune infiltrat",
             "lymphocyte infiltrat", r"CD8\+? (?:T[- ]cells? )?(?:infiltrat|density)", "免疫浸润", "淋巴细胞浸润",
             "immunoscore"),
            ("TILs?", "sTILs?"),
            ("TIL therapy", "tumour immune microenvironment", "PD-L1 expression")),
    Concept("c05", "NK cell therapy", "NK cell therapy for cancer", "NK细胞治疗肿瘤",
            ("natural killer", "自然杀伤", "NK细胞", "NK[- ]?cell", "NK-92"),
            ("NK", "CAR-NK", "NKs"),
            ("CAR-T", "NKT cells", "CIK cells")),
    Concept("c06", "CIK cell therapy", "cytokine-induced killer cells", "CIK细胞治疗",
            ("cytokine[- ]induced killer", "细胞因子诱导的杀伤", "DC-CIK"),
            ("CIKs?",),
            ("NK cell therapy", "dendritic cell vaccines")),
    Concept("c07", "dendritic cell vaccines", "dendritic cell vaccine", "树突状细胞疫苗",
            ("dendritic[- ]cell", "树突状细胞", "树突细胞", "sipuleucel"),
            ("DCs?", "moDCs?", "cDC1s?", "pDCs?", "DC-CIK"),
            ("cancer vaccines", "CIK cells")),
    Concept("c08", "therapeutic cancer vaccines", "therapeutic cancer vaccines", "肿瘤治疗性疫苗",
            ("vaccin", "疫苗", "neoantigen", "neo-antigen", "新抗原", "新生抗原"),
            (),
            ("dendritic cell vaccines", "neoantigens", "prophylactic HPV vaccination")),
    Concept("c09", "neoantigens", "tumour neoantigens", "肿瘤新抗原",
            ("neoantigen", "neo-antigen", "neoepitope", "新抗原", "新生抗原", "mutation[- ]derived (?:antigen|peptide)"),
            (),
            ("tumour mutational burden", "cancer vaccines")),
    Concept("c10", "oncolytic viruses", "oncolytic virus therapy", "溶瘤病毒治疗",
            ("oncolytic", "溶瘤", "talimogene", "virotherapy", "T-VEC", "oncolysis"),
            (),
            ("cancer vaccines", "gene therapy vectors")),
    Concept("c11", "bispecific antibodies and T-cell engagers", "bispecific antibodies T cell engagers",
            "双特异性抗体 T细胞衔接器",
            ("bispecific", "bi-specific", "trispecific", "tri-specific", "multispecific", "multi-specific", "engager",
             "blinatumomab", "teclistamab", "glofitamab", "mosunetuzumab", "epcoritamab", "tebentafusp",
             "catumaxomab", "双特异", "三特异", "双抗", "衔接器"),
            ("BiTEs?", "TriKEs?"),
            ("CAR-T", "antibody-drug conjugates", "monospecific antibodies")),
    Concept("c12", "PD-1/PD-L1 blockade", "PD-1/PD-L1 inhibitors", "PD-1/PD-L1抑制剂",
            (r"programmed (?:cell )?death[- ](?:protein[- ])?1", "programmed death receptor", "programmed death[- ]ligand",
             "anti-PD", "pembrolizumab", "nivolumab", "cemiplimab", "camrelizumab", "sintilimab", "tislelizumab",
             "toripalimab", "spartalizumab", "dostarlimab", "penpulimab", "serplulimab", "atezolizumab",
             "durvalumab", "avelumab", "程序性死亡", "帕博利珠", "纳武利尤", "卡瑞利珠", "信迪利", "替雷利珠",
             "特瑞普利", "阿替利珠", "度伐利尤"),
            ("PD-?1", "PD-?L1", "PD-?1s", "PD-?Ls?"),
            ("CTLA-4 blockade", "PD-L1 expression as a biomarker", "other immunotherapies")),
    Concept("c13", "PD-L1 expression as a biomarker", "PD-L1 expression as a predictive biomarker",
            "PD-L1表达作为预测生物标志物",
            ("programmed death[- ]ligand", "B7-H1", "CD274", "22C3", "SP263", "SP142", "combined positive score",
             "tumou?r proportion score"),
            ("PD-?L1", "TPS", "CPS"),
            ("PD-1 blockade", "tumour mutational burden", "TILs as a biomarker")),
    Concept("c14", "CTLA-4 blockade", "CTLA-4 blockade", "CTLA-4抑制剂",
            ("CTLA-?4", "cytotoxic T[- ]lymphocyte[- ](?:associated )?(?:antigen|protein)[- ]?4", "ipilimumab",
             "tremelimumab", "CD152", "伊匹木"),
            (),
            ("PD-1/PD-L1 blockade", "ipilimumab")),
    Concept("c15", "pembrolizumab", "pembrolizumab", "帕博利珠单抗",
            ("pembrolizumab", "keytruda", "MK-3475", "帕博利珠", "派姆单抗"),
            (),
            ("nivolumab", "atezolizumab", "PD-1/PD-L1 blockade in general")),
    Concept("c16", "nivolumab", "nivolumab", "纳武利尤单抗",
            ("nivolumab", "opdivo", "ONO-4538", "BMS-936558", "纳武利尤", "纳武单抗"),
            (),
            ("pembrolizumab", "ipilimumab", "PD-1/PD-L1 blockade in general")),
    Concept("c17", "ipilimumab", "ipilimumab", "伊匹木单抗",
            ("ipilimumab", "yervoy", "MDX-010", "伊匹木"),
            (),
            ("nivolumab", "tremelimumab", "CTLA-4 biology")),
    Concept("c18", "atezolizumab", "atezolizumab", "阿替利珠单抗",
            ("atezolizumab", "tecentriq", "MPDL3280A", "阿替利珠"),
            (),
            ("durvalumab", "pembrolizumab", "bevacizumab")),
    Concept("c19", "durvalumab", "durvalumab", "度伐利尤单抗",
            ("durvalumab", "imfinzi", "MEDI4736", "度伐利尤"),
            (),
            ("atezolizumab", "tremelimumab")),
    Concept("c20", "Chinese anti-PD-1 antibodies", "sintilimab camrelizumab tislelizumab PD-1 antibodies",
            "国产PD-1单抗 信迪利单抗 卡瑞利珠单抗 替雷利珠单抗",
            ("camrelizumab", "sintilimab", "tislelizumab", "toripalimab", "penpulimab", "serplulimab", "SHR-1210",
             "卡瑞利珠", "信迪利", "替雷利珠", "特瑞普利", "派安普利", "斯鲁利"),
            (),
            ("pembrolizumab", "nivolumab")),
    Concept("c21", "cytokine release syndrome", "cytokine release syndrome", "细胞因子释放综合征",
            ("cytokine release syndrome", "cytokine storm", "细胞因子释放综合征", "细胞因子风暴", "tocilizumab",
             "托珠单抗", "siltuximab", "macrophage activation syndrome", "hemophagocytic", "haemophagocytic"),
            ("CRS", "HLH", "MAS"),
            ("ICANS", "infection after CAR-T", "COVID-19 cytokine storm")),
    Concept("c22", "ICANS", "ICANS neurotoxicity after CAR-T", "CAR-T相关神经毒性ICANS",
            ("immune effector cell[- ]associated", "neurotox", "encephalopath", "神经毒性", "免疫效应细胞相关",
             "cerebral edema", "cerebral oedema"),
            ("ICANS", "CRES"),
            ("cytokine release syndrome", "chemotherapy-induced neuropathy")),
    Concept("c23", "immune-related adverse events", "immune-related adverse events of checkpoint inhibitors",
            "免疫检查点抑制剂相关不良反应",
            ("immune[- ]related adverse", "immune[- ]mediated adverse", "免疫相关不良", "免疫相关性不良",
             "immune[- ]related (?:colitis|hepatitis|pneumonitis|myocarditis|toxicit|endocrin|thyroid|diabetes|"
             "nephritis|arthritis|dermatitis|hypophysitis)",
             "checkpoint inhibitor[- ](?:induced|associated|related)", "autoimmun"),
            ("irAEs?", "imAEs?"),
            ("chemotherapy toxicity", "CRS", "individual irAE organs")),
    Concept("c24", "checkpoint inhibitor colitis", "immune checkpoint inhibitor colitis", "免疫检查点抑制剂相关结肠炎",
            ("colitis", "enterocolitis", "diarrh", "结肠炎", "腹泻", "vedolizumab", "infliximab"),
            (),
            ("inflammatory bowel disease", "immune-related adverse events"),
            IMMUNO),
    Concept("c25", "checkpoint inhibitor pneumonitis", "checkpoint inhibitor pneumonitis", "免疫检查点抑制剂相关肺炎",
            ("pneumonitis", "interstitial lung disease", "间质性肺", "免疫相关肺炎", "肺炎", "lung injury"),
            ("ILD", "CIP"),
            ("radiation pneumonitis", "infectious pneumonia", "immune-related adverse events"),
            IMMUNO),
    Concept("c26", "immune-mediated hepatitis", "immune-mediated hepatitis from immunotherapy", "免疫治疗相关肝炎",
            ("hepatitis", "hepatotox", "liver injury", "transaminase", "肝炎", "肝毒性", "肝损伤"),
            ("ALT", "AST", "DILI"),
            ("viral hepatitis", "drug-induced liver injury from chemotherapy"),
            IMMUNO),
    Concept("c27", "endocrine immune-related adverse events", "thyroiditis hypophysitis after checkpoint inhibitors",
            "免疫检查点抑制剂相关内分泌不良反应",
            ("hypophysitis", "thyroiditis", "hypothyroid", "hyperthyroid", "thyroid dysfunction", "adrenal insufficien",
             "endocrinopath", "type 1 diabetes", "insulin[- ]dependent diabetes", "hypopituitar", "垂体炎",
             "甲状腺炎", "甲状腺功能", "内分泌不良"),
            (),
            ("thyroid cancer", "immune-related adverse events in general"),
            IMMUNO),
    Concept("c28", "myocarditis and cardiotoxicity of immunotherapy", "immune checkpoint inhibitor myocarditis",
            "免疫检查点抑制剂相关心肌炎",
            ("myocarditis", "cardiotox", "心肌炎", "心脏毒性", "cardiac (?:toxicit|adverse)"),
            (),
            ("anthracycline cardiotoxicity", "immune-related adverse events"),
            IMMUNO),
    Concept("c29", "CD19 as a target", "CD19-targeted therapy", "靶向CD19治疗",
            ("CD19", "blinatumomab", "tafasitamab", "loncastuximab", "tisagenlecleucel", "axicabtagene",
             "lisocabtagene", "brexucabtagene"),
            (),
            ("CD22", "BCMA", "CD20")),
    Concept("c30", "BCMA as a target", "BCMA-targeted therapy for multiple myeloma", "靶向BCMA治疗多发性骨髓瘤",
            ("BCMA", "B[- ]cell maturation antigen", "TNFRSF17", "idecabtagene", "ciltacabtagene", "teclistamab",
             "belantamab", "elranatamab"),
            (),
            ("CD38", "CD19")),
    Concept("c31", "HER2-targeted therapy", "HER2-targeted therapy", "HER2靶向治疗",
            ("HER-?2", "ERBB-?2", "trastuzumab", "pertuzumab", "lapatinib", "neratinib",
             "tucatinib", "deruxtecan", "emtansine", "margetuximab", "pyrotinib", "曲妥珠", "帕妥珠", "吡咯替尼"),
            ("T-DM1", "T-DXd", "DS-8201"),
            ("HER2 testing", "EGFR-targeted therapy", "antibody-drug conjugates")),
    Concept("c32", "Claudin 18.2", "Claudin 18.2 targeted therapy", "Claudin 18.2靶向治疗",
            ("claudin", "CLDN", "zolbetuximab", "紧密连接蛋白"),
            (),
            ("HER2-targeted therapy in gastric cancer",)),
    Concept("c33", "mesothelin as a target", "mesothelin-targeted therapy", "靶向间皮素治疗",
            ("mesothelin", "MSLN", "间皮素", "amatuximab", "anetumab"),
            (),
            ("mesothelioma", "CAR-T")),
    Concept("c34", "anti-CD20 antibodies", "rituximab anti-CD20 therapy", "利妥昔单抗抗CD20治疗",
            ("CD20(?![0-9])", "rituximab", "obinutuzumab", "ofatumumab", "ocrelizumab", "ibritumomab", "tositumomab",
             "利妥昔", "奥妥珠"),
            (),
            ("CD19", "R-CHOP chemotherapy")),
    Concept("c35", "CD38 antibodies", "daratumumab CD38 antibody", "达雷妥尤单抗CD38单抗",
            ("CD38", "daratumumab", "isatuximab", "达雷妥尤"),
            (),
            ("BCMA", "proteasome inhibitors")),
    Concept("c36", "CD47 blockade", "CD47-SIRPα axis in cancer", "肿瘤CD47-SIRPα通路",
            ("CD47", "SIRP", "magrolimab", "don't eat me"),
            (),
            ("tumour-associated macrophages", "PD-1 blockade")),
    Concept("c37", "antibody-drug conjugates", "antibody-drug conjugates", "抗体偶联药物",
            ("antibody[- ]drug conjugate", "deruxtecan", "emtansine", "vedotin", "govitecan", "ozogamicin",
             "mafodotin", "tesirine", "抗体偶联"),
            ("ADCs?", "T-DM1", "T-DXd"),
            ("bispecific antibodies", "HER2-targeted therapy")),
    Concept("c38", "T-cell exhaustion", "T cell exhaustion", "T细胞耗竭",
            ("exhaust", "耗竭", "dysfunctional T", "T[- ]cell dysfunction"),
            ("TOX",),
            ("PD-1 blockade", "regulatory T cells")),
    Concept("c39", "regulatory T cells", "regulatory T cells in tumours", "肿瘤中的调节性T细胞",
            ("regulatory T", "FOXP3", "FoxP3", "调节性T细胞", r"CD4\+\s?CD25\+"),
            ("Tregs?", "TREGs?"),
            ("T-cell exhaustion", "MDSCs")),
    Concept("c40", "myeloid-derived suppressor cells", "myeloid-derived suppressor cells", "髓源性抑制细胞",
            ("myeloid[- ]derived suppressor", "髓源性抑制", "髓系来源抑制"),
            ("MDSCs?", "PMN-MDSCs?", "M-MDSCs?"),
            ("regulatory T cells", "tumour-associated macrophages")),
    Concept("c41", "tumour-associated macrophages", "tumour-associated macrophages", "肿瘤相关巨噬细胞",
            ("macrophage", "巨噬细胞"),
            ("TAMs?",),
            ("MDSCs", "CD47 blockade")),
    Concept("c42", "immunosuppressive tumour microenvironment", "immunosuppressive tumour microenvironment",
            "免疫抑制性肿瘤微环境",
            ("immuno-?suppress", "immune[- ]?suppress", "免疫抑制", "immune[- ]?(?:cold|excluded|desert)",
             "cold tumou?r", "T[- ]cell[- ]inflamed"),
            (),
            ("TILs as a biomarker", "cancer-associated fibroblasts"),
            ("micro-?environment", "TME", "微环境", "tumou?r[- ]infiltrating", "immune infiltrat")),
    Concept("c43", "tumour mutational burden", "tumour mutational burden immunotherapy response",
            "肿瘤突变负荷与免疫治疗疗效",
            ("mutational burden", "mutation burden", "mutational load", "mutation load", "突变负荷"),
            ("TMB", "TMB-H"),
            ("PD-L1 expression", "MSI-H/dMMR")),
    Concept("c44", "MSI-H / dMMR", "MSI-H dMMR tumours", "MSI-H/dMMR肿瘤",
            ("microsatellite instab", "mismatch repair", "微卫星不稳定", "错配修复", "lynch"),
            ("MSI", "MSI-H", "dMMR", "MMR", "MSS", "pMMR"),
            ("tumour mutational burden", "Lynch syndrome screening")),
    Concept("c45", "immunotherapy resistance", "resistance to immune checkpoint inhibitors", "免疫检查点抑制剂耐药",
            ("resist", "refractory", "耐药", "non-?respon", "hyperprogress", "逃逸"),
            (),
            ("chemotherapy resistance", "targeted therapy resistance"),
            IMMUNO),
    Concept("c46", "tumour immune escape", "tumour immune escape mechanisms", "肿瘤免疫逃逸机制",
            ("antigen[- ](?:loss|escape|negative)", "immune escape", "immune evasion", "immunoevasion", "immunoescape",
             "evade (?:the )?immun", "免疫逃逸", "抗原丢失", "antigen presentation", "HLA (?:loss|class I)", "MHC[- ]?I",
             "beta-?2[- ]microglobulin", "B2M"),
            (),
            ("T-cell exhaustion", "immunotherapy resistance", "nanoparticles that evade immune clearance")),
    Concept("c47", "gamma delta T cells", "gamma delta T cells", "γδ T细胞",
            ("γδ", "gamma[- ]?delta", "gammadelta", r"V(?:γ|gamma)9", "Vδ"),
            (),
            ("NK cells", "CAR-T")),
    Concept("c48", "allogeneic stem cell transplantation", "allogeneic haematopoietic stem cell transplantation",
            "异基因造血干细胞移植",
            ("allogeneic", "allo-?HSCT", "allotransplant", "stem cell transplant", "bone marrow transplant",
             "graft[- ]versus[- ](?:leuk|tumou?r)", "donor lymphocyte infusion", "造血干细胞移植", "异基因"),
            ("HSCT", "SCT", "BMT", "GVL", "DLI"),
            ("autologous transplant", "GVHD", "CAR-T")),
    Concept("c49", "graft-versus-host disease", "graft-versus-host disease", "移植物抗宿主病",
            ("graft[- ]versus[- ]host", "graft-vs-host", "移植物抗宿主"),
            ("GVHD", "GvHD", "aGVHD", "cGVHD"),
            ("allogeneic transplant outcomes", "CRS")),
    Concept("c50", "BCG for bladder cancer", "intravesical BCG bladder cancer", "膀胱癌卡介苗灌注",
            ("bacill?us calmette", "calmette-gu", "卡介苗", "intravesical"),
            ("BCG",),
            ("intravesical chemotherapy", "checkpoint inhibitors in bladder cancer")),
    Concept("c51", "interleukin-2", "interleukin-2 cancer immunotherapy", "白细胞介素-2肿瘤免疫治疗",
            ("interleukin[- ]2", "aldesleukin", "bempegaldesleukin", "白细胞介素-?2", "白介素-?2"),
            ("IL-?2", "rIL-2", "IL2R"),
            ("IL-6", "interferon")),
    Concept("c52", "cGAS-STING pathway", "cGAS-STING pathway", "cGAS-STING通路",
            ("cGAS", "stimulator of interferon genes", "cyclic GMP-AMP", "干扰素基因刺激"),
            ("STING", "TMEM173"),
            ("type I interferon", "oncolytic viruses")),
    Concept("c53", "novel immune checkpoints", "novel immune checkpoints TIGIT TIM-3 VISTA",
            "新型免疫检查点 TIGIT TIM-3 VISTA",
            ("LAG-?3", "TIM-?3", "TIGIT", "HAVCR2", "relatlimab", "VISTA", "B7-H3", "CD276", "NKG2A", "monalizumab"),
            (),
            ("PD-1", "CTLA-4")),
    Concept("c54", "immunotherapy for hepatocellular carcinoma", "immunotherapy for hepatocellular carcinoma",
            "肝细胞癌免疫治疗",
            ("hepatocellular", "liver cancer", "肝细胞癌", "肝癌", "HCC"),
            (),
            ("TACE", "sorafenib/lenvatinib"),
            IMMUNO),
    Concept("c55", "immunogenic cell death", "immunogenic cell death", "免疫原性细胞死亡",
            ("immunogenic cell death", "immunogenic death", "免疫原性细胞死亡", "calreticulin",
             "damage-associated molecular", "HMGB1", "(?:death|dying)[^.]{0,60}immunogenic"),
            ("ICD", "DAMPs?"),
            ("cGAS-STING pathway", "oncolytic viruses", "chemotherapy cytotoxicity")),
    Concept("c56", "GD2 as a target", "anti-GD2 therapy for neuroblastoma", "抗GD2治疗神经母细胞瘤",
            ("dinutuximab", "naxitamab", "disialoganglioside", "双唾液酸神经节苷脂"),
            ("GD2",),
            ("neuroblastoma chemotherapy", "CAR-T")),
    Concept("c57", "CD22 as a target", "CD22-targeted therapy", "靶向CD22治疗",
            ("CD22(?![0-9])", "inotuzumab", "moxetumomab"),
            (),
            ("CD19 as a target", "CD20")),
)


def screened_text(rec: Record) -> str:
    """What a pattern is matched against: titles and abstracts in every language, and keywords."""
    return "\n".join([*rec.title.values(), *rec.abstract.values(), *rec.keywords])


def screen(records: Iterable[Record], concept: Concept) -> list[Record]:
    """The candidates for one concept, in the records' order."""
    return screen_all(records, [concept])[concept.id]


def screen_all(records: Iterable[Record], concepts: Sequence[Concept] = CONCEPTS) -> dict[str, list[Record]]:
    """The candidates of every concept (id -> records, in the records' order); each text read once."""
    texts = [(r, screened_text(r)) for r in records]
    texts = [(r, t, t.lower()) for r, t in texts]
    return {c.id: [r for r, t, low in texts if c.matches(t, low)] for c in concepts}


def sample_records() -> list[Record]:
    """The bundled sample as `oncosearch index build` (no source) indexes it: read and merged."""
    from corpus.ingest import ingest
    from index.pipeline import sample_sources

    return ingest(sample_sources()).records


def concept(cid: str) -> Concept:
    for c in CONCEPTS:
        if c.id == cid:
            return c
    raise SystemExit(f"no concept {cid!r} (known: {', '.join(c.id for c in CONCEPTS)})")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("concepts", nargs="*", help="concept ids (default: all)")
    ap.add_argument("--list", action="store_true", help="list the candidates, one per line")
    args = ap.parse_args(argv)
    chosen = [concept(c) for c in args.concepts] if args.concepts else list(CONCEPTS)
    candidates = screen_all(sample_records(), chosen)
    for c in chosen:
        hits = candidates[c.id]
        if args.list:
            for r in hits:
                title = next(iter(r.title.values()), "")
                print(f"{c.id}\t{r.id}\t{title}")
        else:
            print(f"{c.id}\t{len(hits)}\t{c.name}")


if __name__ == "__main__":
    main()
